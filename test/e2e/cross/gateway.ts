/**
 * The cross-network gateway (all three adapters against the run's Prosody, Synapse and Postfix),
 * free of vitest so a child process can start it too (the soak test measures its RSS alone).
 */
import { xmppAdapter } from "../../../adapters/xmpp/index.js";
import { matrixAdapter } from "../../../adapters/matrix/index.js";
import { emailAdapterFactory } from "../../../adapters/email/index.js";
import type { DomainMappings } from "../../../src/mappings/types.js";
import type { Logger } from "../../../src/log/logger.js";
import { testMappings } from "../../support/mappings.js";
import { startTestGateway, type TestGateway, type TestGatewayOptions } from "../../support/gateway.js";
import { slotNetworkSettings, type SynapseCoordinates } from "../../harness/synapse/slots.js";
import type { ProsodyCoordinates } from "../../harness/prosody/prosody.js";
import type { MtaCoordinates } from "../../harness/mta/postfix.js";
import type { EmailConfigInput } from "../../../adapters/email/config.js";
import { adapterConfig, resolver } from "../email/support.js";

export interface Peers { prosody: ProsodyCoordinates; synapse: SynapseCoordinates; mta: MtaCoordinates }

export function crossFactories() {
  return { xmpp: xmppAdapter, matrix: matrixAdapter, email: emailAdapterFactory({ resolver }) };
}

export function crossMappings(p: Peers, slotIndex: number): DomainMappings {
  const slot = p.synapse.appservices[slotIndex]!;
  return testMappings({
    networks: {
      xmpp: { settings: { sharedDomains: { matrix: "matrix.gw.test", email: "email.gw.test" } } },
      matrix: { settings: slotNetworkSettings(p.synapse.serverName, slot) },
      email: { settings: { sharedDomains: { xmpp: "xmpp.gw.example.org", matrix: "matrix.gw.example.org" } } },
    },
    domains: {
      [p.prosody.userDomain]: { home: "xmpp" },
      [p.synapse.serverName]: { home: "matrix" },
      "example.org": { home: "email" },
      // Accepts mail that fails authentication, marked "[unverified sender]" (rfc2779-integrity.test.ts).
      "lenient.example": { home: "email", policy: { acceptUnauthenticated: true } },
    },
  });
}

export async function startCrossGateway(p: Peers, slotIndex: number, log?: Logger, prefix?: string, email: Partial<EmailConfigInput> = {}, extend: (m: DomainMappings) => DomainMappings = (m) => m, media?: Record<string, unknown>, admin?: { token: string }, limits?: TestGatewayOptions["limits"]): Promise<{ gw: TestGateway; mappings: DomainMappings }> {
  const slot = p.synapse.appservices[slotIndex]!;
  const mappings = extend(crossMappings(p, slotIndex));
  const gw = await startTestGateway({
    factories: Object.values(crossFactories()),
    adapters: {
      xmpp: { host: p.prosody.host, port: p.prosody.componentPort, componentSecret: p.prosody.componentSecret, reconnect: { baseMs: 100, maxMs: 1000 } },
      matrix: { homeserverUrl: p.synapse.baseUrl, appserviceId: slot.id, asToken: slot.asToken, hsToken: slot.hsToken, listen: { host: "127.0.0.1", port: slot.port } },
      email: adapterConfig(p.mta, email),
    },
    mappings,
    delivery: { attempts: 20, backoffBaseMs: 100, backoffCapMs: 1000 },
    log,
    prefix,
    ...(media ? { media } : {}),
    ...(admin ? { admin } : {}),
    ...(limits ? { limits } : {}),
  });
  return { gw, mappings };
}
