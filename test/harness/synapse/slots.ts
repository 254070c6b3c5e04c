/**
 * Application-service slots for a test homeserver: each has its own id, tokens, listener port,
 * puppet prefix and bot, so tests (and the lead's cross-network tests) never share a namespace.
 * The registration YAML comes from the adapter's own `writeRegistration`.
 */
import { writeRegistration } from "../../../adapters/matrix/registration.js";
import { testMappings } from "../../support/mappings.js";
import type { DomainMappings } from "../../../src/mappings/types.js";
import { freePort, startSynapse } from "./synapse.js";

export interface AppserviceSlot {
  readonly id: string;
  /** Port on 127.0.0.1 where this slot's application-service listener must listen. */
  readonly port: number;
  readonly url: string;
  readonly asToken: string;
  readonly hsToken: string;
  readonly puppetPrefix: string;
  readonly botLocalpart: string;
}

export interface SynapseCoordinates {
  readonly baseUrl: string;
  readonly serverName: string;
  readonly registrationSharedSecret: string;
  /** Synapse's presence.sync_online_timeout in this run. */
  readonly presenceSyncOnlineTimeoutMs: number;
  readonly appservices: readonly AppserviceSlot[];
}

/** The `networks.matrix` mapping section for a slot. */
export function slotNetworkSettings(serverName: string, slot: Pick<AppserviceSlot, "puppetPrefix" | "botLocalpart">): Record<string, unknown> {
  return { serverName, puppetPrefix: slot.puppetPrefix, botLocalpart: slot.botLocalpart };
}

function slotMappings(serverName: string, puppetPrefix: string, botLocalpart: string): DomainMappings {
  return testMappings({
    networks: { matrix: { settings: { serverName, puppetPrefix, botLocalpart } } },
    domains: { [serverName]: { home: "matrix" } },
  });
}

export async function appserviceSlots(serverName: string, count: number): Promise<Array<AppserviceSlot & { yaml: string }>> {
  const slots: Array<AppserviceSlot & { yaml: string }> = [];
  for (let i = 0; i < count; i++) {
    const port = await freePort();
    const puppetPrefix = `_pt${i}_`;
    const botLocalpart = `pbot${i}`;
    const url = `http://127.0.0.1:${port}`;
    const id = `parley-test-${i}`;
    const written = writeRegistration({ id, url, mappings: slotMappings(serverName, puppetPrefix, botLocalpart) });
    slots.push({ id, port, url, asToken: written.asToken, hsToken: written.hsToken, puppetPrefix, botLocalpart, yaml: written.yaml });
  }
  return slots;
}

/**
 * One Synapse with `slots` application-service registrations: what the e2e-matrix globalSetup
 * provides, and what a cross-network globalSetup (XMPP ↔ Matrix) can start next to Prosody.
 */
export async function startSynapseWithSlots(opts: { serverName?: string; slots?: number; presenceSyncOnlineTimeoutMs?: number } = {}): Promise<{ coordinates: SynapseCoordinates; stop(): Promise<void> }> {
  const serverName = opts.serverName ?? "matrix.example.org";
  const slots = await appserviceSlots(serverName, opts.slots ?? 6);
  const synapse = await startSynapse({
    serverName, appserviceRegistrations: slots.map((s) => s.yaml),
    ...(opts.presenceSyncOnlineTimeoutMs !== undefined ? { presenceSyncOnlineTimeoutMs: opts.presenceSyncOnlineTimeoutMs } : {}),
  });
  const coordinates: SynapseCoordinates = {
    baseUrl: synapse.baseUrl,
    serverName,
    registrationSharedSecret: synapse.registrationSharedSecret,
    presenceSyncOnlineTimeoutMs: opts.presenceSyncOnlineTimeoutMs ?? 30_000,
    appservices: slots.map(({ yaml: _yaml, ...slot }) => slot),
  };
  return { coordinates, stop: () => synapse.stop({ cleanup: true }) };
}
