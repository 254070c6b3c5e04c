/**
 * Issue 10: the possible-loss notice after a link holder died (adapters/xmpp/crash-notice.ts) on
 * the real Redis, with the real journal. A link holder reads messages (journal.ts records their
 * senders in the same turn) and dies with its link up; the processes that take over claim its
 * journal and tell the recent senders — each once, in their language, with a window from before
 * the dead holder's last renewal to the new link's start — and nobody else. A graceful handover
 * (the journal marked draining, then closed) tells nobody.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InboundJournal } from "../../../adapters/xmpp/journal.js";
import { RECENT_CONTACTS, RecentContacts, REWRITE_MS } from "../../../adapters/xmpp/recent-contacts.js";
import { MARGIN_MS, sendCrashNotices } from "../../../adapters/xmpp/crash-notice.js";
import { xml, type XmlElement } from "../../../adapters/xmpp/connection.js";
import { asNetworkId } from "../../../src/model/address.js";
import { silentLogger } from "../../../src/log/logger.js";
import { deleteKeysUnder, keyspace, RedisAdapterStateStore } from "../../../src/store/index.js";
import { SHARED_REDIS, uniquePrefix } from "../delivery/helpers.js";

const prefix = uniquePrefix("xmpp-crash-notice");
let redis: Redis;
beforeAll(() => { redis = new Redis(SHARED_REDIS); });
afterAll(async () => { await deleteKeysUnder(redis, prefix); redis.disconnect(); });

const GW = "matrix.gw.example.org";
const BOB = `bob\\40matrix.example.org@${GW}`;

function message(from: string, n: number, lang?: string): XmlElement {
  return xml("message", { from, to: BOB, type: "chat", id: `m${n}`, "xml:lang": lang }, xml("body", {}, `hello ${n}`));
}

class FakeLink {
  readonly sent: XmlElement[] = [];
  async send(el: XmlElement): Promise<number> { this.sent.push(el); return 1; }
}

const WINDOW = /between (\d\d:\d\d:\d\d\.\d{3}) (?:and|und|et|y) (\d\d:\d\d:\d\d\.\d{3}) UTC \((\d{4}-\d\d-\d\d)\)/;
function windowOf(el: XmlElement): [number, number] {
  const m = (el.getChildText("body") ?? "").replace(/zwischen|entre/, "between").match(WINDOW);
  if (!m) throw new Error(`no window in ${el.toString()}`);
  return [Date.parse(`${m[3]}T${m[1]}Z`), Date.parse(`${m[3]}T${m[2]}Z`)];
}

const until = async (what: string, ok: () => Promise<boolean>, ms = 5_000) => {
  const end = Date.now() + ms;
  while (!(await ok())) { if (Date.now() > end) throw new Error(`timed out: ${what}`); await new Promise((r) => setTimeout(r, 20)); }
};

describe("crash notice after a link holder died (issue 10)", () => {
  it("tells each recent sender of a dead holder once (two claimants), in their language, with a window around the death; nobody else", async () => {
    const keys = keyspace(`${prefix}:a`);
    const state = new RedisAdapterStateStore(redis, keys, asNetworkId("xmpp"));
    // dave last wrote 10 minutes ago: not in a conversation now, not told.
    await state.recentAdd(RECENT_CONTACTS, `dave@chat.example.org ${GW} `, Date.now() - 10 * 60_000);
    const a = new InboundJournal(state, "A", 600, silentLogger());
    const contacts = new RecentContacts(state);
    await a.open();
    const t0 = Date.now();
    // As the adapter does: the sender recorded and the stanza journaled in the turn that read it.
    const read = (el: XmlElement) => { contacts.inbound(el); return a.append(el); };
    read(message("alice@chat.example.org/phone", 1));
    read(message("Carol@chat.example.org/pc", 2, "de-AT"));
    const alive = read(message("alice@chat.example.org/laptop", 3));
    await until("the senders recorded", async () => (await state.recentRange(RECENT_CONTACTS, t0 - 1, Date.now(), 10)).length === 2);
    await a.renew(); // its last sign of life
    const lastRenewal = Date.now();
    await alive.done();
    // A is killed (no renewal, no close). B and C both take over; only one claims A's journal.
    const b = new InboundJournal(state, "B", 10_000, silentLogger());
    const c = new InboundJournal(state, "C", 10_000, silentLogger());
    await Promise.all([b.open(), c.open()]);
    await Promise.all([b.claimOrphans(3_000), c.claimOrphans(3_000)]);
    const died = [...b.takeDied(), ...c.takeDied()];
    expect(died.map((d) => d.holder)).toEqual(["A"]);
    const linkUp = Date.now();
    const link = new FakeLink();
    let counted = 0;
    const deps = { state, link, log: silentLogger(), domains: new Set([GW]), counted: { inc: () => { counted++; } } };
    // A second claimant of the same dead journal (its lease lapsed again, say) sends nothing more.
    const told = await Promise.all([sendCrashNotices(deps, died, linkUp), sendCrashNotices(deps, died, linkUp)]);
    expect(told.sort()).toEqual([0, 2]);
    expect(counted).toBe(2); // parley_crash_notices_total
    expect(link.sent.map((s) => s.attrs.to).sort()).toEqual(["alice@chat.example.org", "carol@chat.example.org"]);
    for (const s of link.sent) {
      expect(s.attrs.from).toBe(GW);
      expect(s.attrs.type).toBe("chat");
      const [from, to] = windowOf(s);
      expect(from).toBeLessThanOrEqual(t0); // the messages just before the death are inside
      expect(from).toBeGreaterThanOrEqual(lastRenewal - MARGIN_MS - 1_000);
      expect(to).toBe(linkUp);
    }
    const carol = link.sent.find((s) => s.attrs.to === "carol@chat.example.org")!;
    expect(carol.attrs["xml:lang"]).toBe("de");
    expect(carol.getChildText("body")).toMatch(/möglicherweise nicht zugestellt/);
    const alice = link.sent.find((s) => s.attrs.to === "alice@chat.example.org")!;
    expect(alice.getChildText("body")).toMatch(/^Parley \(the gateway to Matrix and email\) stopped unexpectedly\. Messages you sent .* may not have been delivered; please send them again\.$/);
    // Nothing is sent again on a later claim check.
    expect(await sendCrashNotices(deps, died, Date.now())).toBe(0);
    expect(link.sent).toHaveLength(2);
  });

  it("paces a crash with many recent senders (200 a second), newest first", async () => {
    const keys = keyspace(`${prefix}:c`);
    const state = new RedisAdapterStateStore(redis, keys, asNetworkId("xmpp"));
    const now = Date.now();
    for (let i = 0; i < 450; i++) await state.recentAdd(RECENT_CONTACTS, `u${i}@chat.example.org ${GW} `, now - 450 + i);
    const link = new FakeLink();
    const sleeps: number[] = [];
    const told = await sendCrashNotices({ state, link, log: silentLogger(), domains: new Set([GW]), sleep: async (ms) => { sleeps.push(link.sent.length); await Promise.resolve(ms); } },
      [{ holder: "H", lastAliveMs: now }], now + 1_000);
    expect(told).toBe(450);
    expect(sleeps).toEqual([200, 400]); // a second's pause after each 200
    expect(link.sent[0]!.attrs.to).toBe("u449@chat.example.org");
  });

  it("tells users who only had activity with a puppet — a puppet wrote to them, they came online or asked to subscribe, they were typing — but not those who left or were only probed", async () => {
    const keys = keyspace(`${prefix}:d`);
    const state = new RedisAdapterStateStore(redis, keys, asNetworkId("xmpp"));
    const contacts = new RecentContacts(state);
    const t0 = Date.now();
    // erin last wrote 100 s before, in French (her language is known).
    await state.recentAdd(RECENT_CONTACTS, `erin@chat.example.org ${GW} fr`, t0 - 100_000);
    contacts.outbound("Erin@chat.example.org/tablet", GW); // bob's puppet wrote to her: she may answer
    contacts.inbound(xml("presence", { from: "frank@chat.example.org/pc", to: BOB })); // came online to bob's puppet
    contacts.inbound(xml("presence", { from: "gina@chat.example.org", to: BOB, type: "subscribe" }));
    contacts.inbound(xml("message", { from: "hal@chat.example.org/m", to: BOB, type: "chat" }, xml("composing", { xmlns: "http://jabber.org/protocol/chatstates" })));
    contacts.inbound(xml("presence", { from: "ivan@chat.example.org/pc", to: BOB, type: "unavailable" })); // left
    contacts.inbound(xml("presence", { from: "judy@chat.example.org", to: BOB, type: "probe" })); // her server asked, not her
    contacts.inbound(xml("message", { from: "kim@chat.example.org/m", to: BOB, type: "error" }, xml("body", {}, "x")));
    contacts.inbound(xml("presence", { from: "chat.example.org", to: BOB })); // a server, not a user
    await until("the contacts recorded", async () => (await state.recentRange(RECENT_CONTACTS, t0 - 1, Date.now() + 1, 20)).length === 4);
    const link = new FakeLink();
    const told = await sendCrashNotices({ state, link, log: silentLogger(), domains: new Set([GW]) }, [{ holder: "D", lastAliveMs: Date.now() }], Date.now() + 500);
    expect(told).toBe(4);
    expect(link.sent.map((s) => s.attrs.to).sort()).toEqual(["erin@chat.example.org", "frank@chat.example.org", "gina@chat.example.org", "hal@chat.example.org"]);
    const erin = link.sent.find((s) => s.attrs.to === "erin@chat.example.org")!;
    expect(erin.attrs["xml:lang"]).toBe("fr"); // the language she last wrote in
  });

  it("writes a user's activity at most once every few seconds (one ZADD, not one per message)", async () => {
    const keys = keyspace(`${prefix}:e`);
    const state = new RedisAdapterStateStore(redis, keys, asNetworkId("xmpp"));
    let writes = 0;
    const counting = Object.assign(Object.create(state) as RedisAdapterStateStore, {
      recentAdd: async (set: string, member: string, at: number) => { writes++; await state.recentAdd(set, member, at); },
    });
    const contacts = new RecentContacts(counting);
    const t = Date.now();
    for (let i = 0; i < 50; i++) contacts.inbound(message("alice@chat.example.org/phone", i, "en"), t + i * 10);
    for (let i = 0; i < 50; i++) contacts.outbound("alice@chat.example.org", GW, t + i * 10);
    expect(writes).toBe(2); // one per member: alice in English, and alice with no language (the outbound)
    contacts.inbound(message("alice@chat.example.org/phone", 99, "en"), t + REWRITE_MS + 1);
    expect(writes).toBe(3);
  });

  it("tells nobody after a graceful handover, even when the stopping process dies while draining", async () => {
    const keys = keyspace(`${prefix}:b`);
    const state = new RedisAdapterStateStore(redis, keys, asNetworkId("xmpp"));
    // E stops gracefully: link closed, journal draining, everything handled, journal closed.
    const e = new InboundJournal(state, "E", 600, silentLogger());
    await e.open();
    const done = e.append(message("alice@chat.example.org/phone", 1));
    e.drain(100);
    await done.done();
    await e.close();
    // G stops gracefully too but is killed while storing its backlog (journal draining, lease lapses).
    const g = new InboundJournal(state, "G", 600, silentLogger());
    await g.open();
    g.append(message("alice@chat.example.org/phone", 2));
    g.drain(100);
    await until("G's journal marked draining", async () => ((await state.mapGet("inbound-journals", "G")) ?? "").startsWith("draining@"));
    // @ts-expect-error -- the test stops G's own renewal timer: it was killed.
    clearInterval(g.drainTimer);
    const f = new InboundJournal(state, "F", 600, silentLogger());
    await f.open();
    let replayed = 0;
    await until("G's journal claimed", async () => { replayed += (await f.claimOrphans(0)).length; return replayed > 0; });
    expect(replayed).toBe(1);
    expect(f.takeDied()).toEqual([]);
  });
});
