/**
 * E2E support for the XMPP adapter: real `@xmpp/client` users on the harness's Prosody, and the
 * adapter started against it with a FakeContext (or the gateway, in gateway.test.ts).
 */
import { client, type XmppClient } from "@xmpp/client";
import xml from "@xmpp/xml";
import { inject } from "vitest";
import { Writable } from "node:stream";
import { pino } from "pino";
import type { ProsodyCoordinates } from "../../harness/prosody/prosody.js";
import { testMappings } from "../../support/mappings.js";
import { FakeContext, type FakeContextOptions } from "../../support/fake-context.js";
import { xmppAdapter, type XmppAdapter } from "../../../adapters/xmpp/index.js";
import type { XmppConfigInput } from "../../../adapters/xmpp/config.js";
import type { DomainMappings } from "../../../src/mappings/types.js";
import { asNetworkId } from "../../../src/model/address.js";

export type Stanza = xml.Element;
export { xml };

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

/** Waits on stanzas a client (or anything) receives: each `next` consumes the first match. */
export class Inbox {
  readonly seen: Stanza[] = [];
  private waiters: Array<{ match: (s: Stanza) => boolean; resolve: (s: Stanza) => void }> = [];
  push(s: Stanza): void {
    const w = this.waiters.find((x) => x.match(s));
    if (w) {
      this.waiters.splice(this.waiters.indexOf(w), 1);
      w.resolve(s);
    } else this.seen.push(s);
  }
  next(match: (s: Stanza) => boolean, timeoutMs = 10_000, what = "stanza"): Promise<Stanza> {
    const i = this.seen.findIndex(match);
    if (i >= 0) return Promise.resolve(this.seen.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const w = { match, resolve: (s: Stanza) => { clearTimeout(timer); resolve(s); } };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error(`no ${what} within ${timeoutMs} ms; seen: ${this.seen.map(String).join("\n").slice(0, 2000)}`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }
}

export interface TestUser {
  readonly jid: string;
  readonly bare: string;
  readonly xmpp: XmppClient;
  readonly inbox: Inbox;
  send(el: Stanza): Promise<void>;
  stop(): Promise<void>;
}

/** Log in as a pre-registered harness user; answers roster pushes (STACK.md) and requests the roster. */
export async function connectUser(user: string, opts: { resource?: string; presence?: boolean } = {}): Promise<TestUser> {
  const c = prosody();
  const password = c.users[user];
  if (!password) throw new Error(`${user} is not a harness user`);
  const x = client({ service: `xmpp://${c.host}:${c.c2sPort}`, domain: c.userDomain, username: user, password, resource: opts.resource ?? "test" });
  x.on("error", () => undefined);
  const inbox = new Inbox();
  x.on("stanza", (s: Stanza) => {
    if (s.is("iq") && s.attrs.type === "set" && s.getChild("query", "jabber:iq:roster")) {
      void x.send(xml("iq", { type: "result", id: s.attrs.id, to: s.attrs.from }));
      return;
    }
    inbox.push(s);
  });
  const address = await x.start();
  await x.iqCaller.request(xml("iq", { type: "get" }, xml("query", { xmlns: "jabber:iq:roster" })));
  if (opts.presence !== false) await x.send(xml("presence"));
  const jid = address.toString();
  return {
    jid, bare: jid.split("/")[0]!, xmpp: x, inbox,
    send: (el) => x.send(el),
    async stop() { x.reconnect.stop(); await x.stop().catch(() => undefined); },
  };
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
): Promise<{ adapter: XmppAdapter; ctx: FakeContext; mappings: DomainMappings }> {
  const mappings = opts.ctx?.mappings ?? e2eMappings();
  const ctx = new FakeContext({ network: asNetworkId("xmpp"), mappings, ...opts.ctx });
  const adapter = xmppAdapter.create(xmppAdapter.configSchema.parse(adapterConfig(opts.config))) as XmppAdapter;
  await adapter.start(ctx);
  if (!adapter.health().ready) throw new Error(`adapter not ready: ${adapter.health().detail}`);
  return { adapter, ctx, mappings };
}
