/**
 * What the XMPP inbound journal tests (journal.test.ts, handover.test.ts) share: one XMPP and one
 * Matrix domain, bob's puppet JID, an XMPP runtime whose link never connects (the tests feed the
 * inbound handler directly), and a core that dedupes on native ids as src/core/accept.ts does.
 */
import { ComponentLink } from "../../../adapters/xmpp/connection.js";
import { XmppConfigSchema } from "../../../adapters/xmpp/config.js";
import type { XmppRuntime } from "../../../adapters/xmpp/stanza.js";
import type { AcceptResult } from "../../../src/adapter/contract.js";
import { claimNativeIds } from "../../../src/core/native-ids.js";
import type { CanonicalEvent } from "../../../src/model/events.js";
import { asNetworkId } from "../../../src/model/address.js";
import { silentLogger } from "../../../src/log/logger.js";
import type { RedisInboundClaims } from "../../../src/store/index.js";
import { FakeContext } from "../../support/fake-context.js";
import { testMappings } from "../../support/mappings.js";

export const mappings = testMappings({
  networks: { xmpp: { settings: { sharedDomains: { matrix: "matrix.gw.example.org" } } }, matrix: {} },
  domains: { "chat.example.org": { home: "xmpp" }, "matrix.example.org": { home: "matrix" } },
});
export const BOB = "bob\\40matrix.example.org@matrix.gw.example.org";

/** The core's dedupe on native ids (src/core/accept.ts) in front of the fake core's acceptance; `by` names who accepted each message. */
export class DedupingContext extends FakeContext {
  readonly by: string[] = [];
  constructor(private readonly claims: RedisInboundClaims) { super({ network: asNetworkId("xmpp"), mappings }); }
  override accept(events: readonly CanonicalEvent[]): Promise<AcceptResult[]> {
    return this.acceptAs("", events);
  }
  async acceptAs(who: string, events: readonly CanonicalEvent[]): Promise<AcceptResult[]> {
    const out: AcceptResult[] = [];
    for (const e of events) {
      if (e.kind === "message" && (await claimNativeIds(this.claims, e.message.id, e.message.nativeIds)).earlier !== undefined) out.push({ status: "duplicate" });
      else {
        out.push(...(await super.accept([e])));
        if (e.kind === "message") this.by.push(who);
      }
    }
    return out;
  }
}

export function runtime(ctx: FakeContext): XmppRuntime {
  const config = XmppConfigSchema.parse({ componentSecret: "s" });
  const log = silentLogger();
  const link = new ComponentLink(["matrix.gw.example.org"], { host: "127.0.0.1", port: 1, secret: "s", maxStanzaBytes: 65_536, reconnect: config.reconnect, iqTimeoutMs: 1_000, log }, {
    stanza: () => undefined, rejected: () => undefined, online: () => undefined, offline: () => undefined,
  });
  return { ctx, config, log, link, domains: new Set(["matrix.gw.example.org"]) };
}
