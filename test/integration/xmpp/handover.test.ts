/**
 * Issue 10: order across a graceful handover of the XMPP link, on the real Redis with the real
 * journal (adapters/xmpp/journal.ts), the real per-conversation line (serial-inbound.ts) and the
 * real inbound handler, in the order XmppAdapter.stopIngress runs them. The stopping holder has a
 * backlog of one conversation (one stanza being handled, the rest waiting); it halts — the one
 * being handled finishes, the rest stays in the journal — and hands the journal over. The successor
 * replays that backlog before its own new stanzas of the same conversation: every message accepted
 * exactly once, in the order sent, and no crash notice (a graceful stop lost nothing unseen).
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InboundJournal, JOURNALS, journalName, type JournalEntry } from "../../../adapters/xmpp/journal.js";
import { SerialInbound } from "../../../adapters/xmpp/serial-inbound.js";
import { handleStanza } from "../../../adapters/xmpp/inbound.js";
import { xml, type XmlElement } from "../../../adapters/xmpp/connection.js";
import { PresenceState } from "../../../adapters/xmpp/presence.js";
import type { AcceptResult } from "../../../src/adapter/contract.js";
import type { CanonicalEvent } from "../../../src/model/events.js";
import { asNetworkId } from "../../../src/model/address.js";
import { silentLogger } from "../../../src/log/logger.js";
import { deleteKeysUnder, keyspace, RedisAdapterStateStore, RedisInboundClaims } from "../../../src/store/index.js";
import { FakeContext } from "../../support/fake-context.js";
import { SHARED_REDIS, uniquePrefix } from "../delivery/helpers.js";
import { BOB, DedupingContext, mappings, runtime } from "./inbound-support.js";

const prefix = uniquePrefix("xmpp-handover");
let redis: Redis;
beforeAll(() => { redis = new Redis(SHARED_REDIS); });
afterAll(async () => { await deleteKeysUnder(redis, prefix); redis.disconnect(); });

const KEY = `alice@chat.example.org>${BOB}`;

/** A process's view of the core: accepts in its own name, optionally held at a gate first. */
class ProcessContext extends FakeContext {
  gate: Promise<void> | undefined;
  constructor(private readonly core: DedupingContext, private readonly who: string) { super({ network: asNetworkId("xmpp"), mappings }); }
  override async accept(events: readonly CanonicalEvent[]): Promise<AcceptResult[]> {
    const g = this.gate;
    this.gate = undefined;
    if (g) await g;
    return this.core.acceptAs(this.who, events);
  }
}

function message(n: number): XmlElement {
  return xml("message", { from: "alice@chat.example.org/phone", to: BOB, type: "chat", id: `h${n}` }, xml("body", {}, `hello ${n}`));
}

/** A Parley process's inbound path: the journal, the per-conversation line and the handler (as XmppAdapter wires them). */
function processOf(name: string, core: DedupingContext, state: RedisAdapterStateStore) {
  const ctx = new ProcessContext(core, name);
  const rt = runtime(ctx);
  const presence = new PresenceState(rt);
  const journal = new InboundJournal(state, name, 600, silentLogger());
  const inbound = new SerialInbound();
  const handle = (entry: JournalEntry) => inbound.run(KEY, async () => {
    try { await handleStanza(rt, entry.el, presence); } finally { await entry.done(); }
  });
  return { ctx, journal, inbound, handle, read: (el: XmlElement) => handle(journal.append(el)) };
}

const bodies = (ctx: FakeContext) => ctx.accepted.flatMap((e) => (e.kind === "message" && e.message.parts[0]?.role === "text" ? [e.message.parts[0].body] : []));
const until = async (what: string, ok: () => boolean | Promise<boolean>, ms = 5_000) => {
  const end = Date.now() + ms;
  while (!(await ok())) { if (Date.now() > end) throw new Error(`timed out: ${what}`); await new Promise((r) => setTimeout(r, 10)); }
};

describe("graceful handover of the XMPP link keeps each conversation's order (issue 10)", () => {
  for (const inFlightOutlastsHalt of [false, true]) {
    it(inFlightOutlastsHalt
      ? "a stanza still being handled past the halt is replayed by the successor too and accepted once; order kept"
      : "the successor accepts the stopping holder's backlog first, in order, exactly once, then its own; no crash notice", async () => {
      const keys = keyspace(`${prefix}:${String(inFlightOutlastsHalt)}`);
      const state = new RedisAdapterStateStore(redis, keys, asNetworkId("xmpp"));
      const core = new DedupingContext(new RedisInboundClaims(redis, keys, 60));
      const a = processOf("A", core, state);
      await a.journal.open();
      // A reads five messages of one conversation; the first is being accepted (held), four wait.
      let release!: () => void;
      a.ctx.gate = new Promise((r) => { release = r; });
      for (let n = 1; n <= 5; n++) a.read(message(n));
      await until("A handling its first stanza", () => a.inbound.inFlight === 1);

      // SIGTERM: A halts (what runs finishes, nothing new starts), its link closes, the journal is handed over.
      const halted = a.inbound.halt(inFlightOutlastsHalt ? 100 : 5_000);
      if (!inFlightOutlastsHalt) setTimeout(release, 50);
      expect(await halted).toBe(inFlightOutlastsHalt ? 1 : 0);
      expect(await a.journal.handOver()).toBe(inFlightOutlastsHalt ? 5 : 4);
      expect(await state.mapGet(JOURNALS, "A")).toMatch(/^handover@\d+$/);

      // B takes the link (the adapter: journal opened, orphans replayed, then the link starts).
      const b = processOf("B", core, state);
      await b.journal.open();
      const t0 = Date.now();
      const replay = await b.journal.claimOrphans(600);
      expect(Date.now() - t0).toBeLessThan(300); // handed over: claimed at once, not after its lease's TTL
      expect(replay.map((e) => e.el.attrs.id)).toEqual((inFlightOutlastsHalt ? [1, 2, 3, 4, 5] : [2, 3, 4, 5]).map((n) => `h${n}`));
      for (const e of replay) b.handle(e);
      expect(b.journal.takeDied()).toEqual([]); // no crash notice after a graceful stop
      // New stanzas of the same conversation, read by B's link at once.
      b.read(message(6));
      b.read(message(7));
      if (inFlightOutlastsHalt) setTimeout(release, 30); // A's stuck accept finishes while B replays
      await until("everything accepted", () => bodies(core).length >= 7 && b.inbound.inFlight === 0 && a.inbound.inFlight === 0);
      await b.inbound.drain(2_000);
      await a.inbound.drain(2_000);

      expect(bodies(core)).toEqual([1, 2, 3, 4, 5, 6, 7].map((n) => `hello ${n}`));
      // A accepted at most the one it was handling when it halted; B everything after, its backlog first.
      expect(core.by.slice(1)).toEqual(["B", "B", "B", "B", "B", "B"]);
      expect(await redis.exists(keys.key("state", "xmpp", journalName("A")))).toBe(0);
      expect(await redis.hexists(keys.key("state", "xmpp", JOURNALS), "A")).toBe(0);
      await a.journal.close();
      await b.journal.close();
    });
  }
});
