/**
 * E2E support for the XMPP adapter: real `@xmpp/client` users on the harness's Prosody, and the
 * adapter started against it with a FakeContext (or the gateway, in gateway.test.ts).
 */
import { connectXmppUser, Inbox, xml, type Stanza, type XmppTestUser } from "../../harness/prosody/client.js";
import { inject } from "vitest";
import { Writable } from "node:stream";
import { pino } from "pino";
import type { ProsodyCoordinates } from "../../harness/prosody/prosody.js";
import { testMappings } from "../../support/mappings.js";
import { FakeContext, type FakeContextOptions } from "../../support/fake-context.js";
import { xmppAdapter, type XmppAdapter } from "../../../adapters/xmpp/index.js";
import type { XmppConfig, XmppConfigInput } from "../../../adapters/xmpp/config.js";
import type { DomainMappings } from "../../../src/mappings/types.js";
import { asNetworkId } from "../../../src/model/address.js";

export { Inbox, xml, type Stanza };

export function prosody(): ProsodyCoordinates {
  return inject("prosody");
}

/** The mappings every XMPP e2e test uses: the harness's component domains. */
export function e2eMappings(c: ProsodyCoordinates = prosody()): DomainMappings {
  return testMappings({
    networks: {
      xmpp: { settings: { sharedDomains: { matrix: "matrix.gw.test", email: "email.gw.test" } } },
      matrix: { settings: {} },
      email: { settings: {}, federation: { denyDomains: ["denied.example"] } },
    },
    domains: {
      [c.userDomain]: { home: "xmpp" },
      "matrix.test": { home: "matrix", appearsOn: { xmpp: { componentDomain: "matrix.test" } } },
      "example.org": { home: "email" },
    },
  });
}

export type TestUser = XmppTestUser;

/** Log in as a pre-registered harness user of this run's Prosody (see test/harness/prosody/client.ts). */
export function connectUser(user: string, opts: { resource?: string; presence?: boolean } = {}): Promise<TestUser> {
  return connectXmppUser(prosody(), user, opts);
}

/** Collects pino lines so tests can check "dropped and logged". */
export class LogCapture {
  readonly lines: Array<Record<string, unknown>> = [];
  readonly logger = pino({ level: "debug" }, new Writable({
    write: (chunk: Buffer, _enc, cb) => {
      for (const l of chunk.toString().split("\n")) if (l.trim()) this.lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  }));
  find(pred: (l: Record<string, unknown>) => boolean): Record<string, unknown> | undefined { return this.lines.find(pred); }
}

export function adapterConfig(overrides: Partial<XmppConfigInput> = {}): XmppConfigInput {
  const c = prosody();
  return { host: c.host, port: c.componentPort, componentSecret: c.componentSecret, reconnect: { baseMs: 100, maxMs: 2000 }, ...overrides };
}

export async function startAdapter(
  opts: { config?: Partial<XmppConfigInput>; ctx?: Partial<FakeContextOptions> } = {},
): Promise<{ adapter: XmppAdapter; ctx: FakeContext; mappings: DomainMappings; config: XmppConfig }> {
  const mappings = opts.ctx?.mappings ?? e2eMappings();
  const ctx = new FakeContext({ network: asNetworkId("xmpp"), mappings, ...opts.ctx });
  const config = xmppAdapter.configSchema.parse(adapterConfig(opts.config));
  const adapter = xmppAdapter.create(config) as XmppAdapter;
  await adapter.start(ctx);
  if (!adapter.health().ready) throw new Error(`adapter not ready: ${adapter.health().detail}`);
  return { adapter, ctx, mappings, config };
}
