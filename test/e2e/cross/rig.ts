/**
 * One gateway with all three adapters against the run's Prosody, Synapse and Postfix, and a real
 * client per person: `alice` on XMPP, `bob` on Matrix (syncing), the mailbox carol@example.org read
 * from Postfix's Maildir. Each test file takes its own application-service slot.
 */
import { inject } from "vitest";
import { endpoint, type Endpoint } from "../../../src/model/address.js";
import type { DomainMappings } from "../../../src/mappings/types.js";
import type { Logger } from "../../../src/log/logger.js";
import type { TestGateway } from "../../support/gateway.js";
import { connectUser, type TestUser, type Stanza } from "../xmpp/support.js";
import { startUser, uniqueName, type TestMatrixUser } from "../../harness/synapse/clients.js";
import { mtaCoordinates } from "../../harness/mta/inject.js";
import { crossFactories, startCrossGateway } from "./gateway.js";

export type Network = "xmpp" | "matrix" | "email";

export interface CrossRig {
  readonly gw: TestGateway;
  readonly mappings: DomainMappings;
  readonly alice: TestUser;
  readonly aliceEp: Endpoint;
  readonly bob: TestMatrixUser;
  readonly bobEp: Endpoint;
  readonly carolEp: Endpoint;
  /** Postfix's Maildir of example.org, where carol's mail lands. */
  readonly carolInbox: string;
  readonly mta: ReturnType<typeof mtaCoordinates>;
  readonly botUserId: string;
  /** How `who` appears on `network`, by that adapter's own addressing. */
  on(network: Network, who: Endpoint): string;
  stop(): Promise<void>;
}

export const bodyOf = (s: Stanza): string => s.getChildText("body") ?? "";

/** `componentLink`: where the gateway's XMPP component link connects instead of Prosody (a test/harness/tcp-proxy.ts in front of it). */
export async function startCrossRig(slotIndex: number, xmppResource: string, log?: Logger, media?: Record<string, unknown>, admin?: { token: string }, componentLink?: { host: string; port: number }): Promise<CrossRig> {
  const run = inject("prosody");
  const prosody = componentLink ? { ...run, host: componentLink.host, componentPort: componentLink.port } : run;
  const synapse = inject("synapse");
  const mta = mtaCoordinates();
  const { gw, mappings } = await startCrossGateway({ prosody, synapse, mta }, slotIndex, log, undefined, {}, undefined, media, admin);
  const factories = crossFactories();
  const slot = synapse.appservices[slotIndex]!;
  const alice = await connectUser("alice", { resource: xmppResource });
  const bob = await startUser(synapse.baseUrl, synapse.registrationSharedSecret, uniqueName("bob"));
  return {
    gw, mappings, alice, bob, mta,
    aliceEp: endpoint(alice.bare, "xmpp"),
    bobEp: endpoint(`${bob.userId.slice(1, bob.userId.indexOf(":"))}@${synapse.serverName}`, "matrix"),
    carolEp: endpoint("carol@example.org", "email"),
    carolInbox: mta.maildirs["example.org"]!,
    botUserId: `@${slot.botLocalpart}:${synapse.serverName}`,
    on: (network, who) => factories[network].addressing.toNative(who, mappings),
    async stop() {
      bob.stop();
      await alice.stop();
      await gw.destroy();
    },
  };
}
