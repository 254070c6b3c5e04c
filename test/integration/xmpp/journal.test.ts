/**
 * Issue 10: the XMPP inbound journal (adapters/xmpp/journal.ts) on the real Redis. A process reads
 * stanzas from the component link, journals each at once, handles some, and dies (kill -9: it
 * neither renews its journal lease nor removes anything); the next link holder claims the journal
 * and replays it through the real inbound handler: every stanza is accepted exactly once, in order
 * — the one handled before the crash but not yet removed is recognised by the core's native-id
 * claims (its stanza id, or the journal key when it has none) — and the journal is gone after.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InboundJournal, JOURNALS, journalName, type JournalEntry } from "../../../adapters/xmpp/journal.js";
import { handleStanza } from "../../../adapters/xmpp/inbound.js";
import { xml, type XmlElement } from "../../../adapters/xmpp/connection.js";
import { PresenceState } from "../../../adapters/xmpp/presence.js";
import { asNetworkId } from "../../../src/model/address.js";
import { silentLogger } from "../../../src/log/logger.js";
import { deleteKeysUnder, keyspace, RedisAdapterStateStore, RedisInboundClaims } from "../../../src/store/index.js";
import type { FakeContext } from "../../support/fake-context.js";
import { SHARED_REDIS, uniquePrefix } from "../delivery/helpers.js";
import { BOB, DedupingContext, runtime } from "./inbound-support.js";

const prefix = uniquePrefix("xmpp-journal");
const keys = keyspace(prefix);
let redis: Redis;
beforeAll(() => { redis = new Redis(SHARED_REDIS); });
afterAll(async () => { await deleteKeysUnder(redis, prefix); redis.disconnect(); });


function message(n: number, withId = true): XmlElement {
  return xml("message", { from: "alice@chat.example.org/phone", to: BOB, type: "chat", id: withId ? `m${n}` : undefined }, xml("body", {}, `hello ${n}`));
}

const bodies = (ctx: FakeContext) => ctx.accepted.flatMap((e) => (e.kind === "message" ? [e.message.parts[0]?.role === "text" ? e.message.parts[0].body : "?"] : []));

describe("XMPP inbound journal (issue 10)", () => {
  it("replays a killed process's journal after its lease lapses: every stanza accepted once, in order; the journal removed", async () => {
    const state = new RedisAdapterStateStore(redis, keys, asNetworkId("xmpp"));
    const ctx = new DedupingContext(new RedisInboundClaims(redis, keys, 60));
    const rt = runtime(ctx);
    const presence = new PresenceState(rt);
    const handle = async (e: JournalEntry, remove = true) => {
      await handleStanza(rt, e.el, presence);
      if (remove) await e.done();
    };

    // Process A reads six stanzas (the third without an id), handles two fully, the third up to
    // acceptance (killed before removing it), and dies with the last three unhandled.
    const a = new InboundJournal(state, "A", 600, silentLogger());
    await a.open();
    const read = [1, 2, 3, 4, 5, 6].map((n) => a.append(message(n, n !== 3)));
    await handle(read[0]!);
    await handle(read[1]!);
    await handle(read[2]!, false);
    await new Promise((r) => setTimeout(r, 50)); // the appends reach Redis (a write is one round trip)
    expect(bodies(ctx)).toEqual(["hello 1", "hello 2", "hello 3"]);
    expect(await redis.hlen(keys.key("state", "xmpp", journalName("A")))).toBe(4);

    // Process B takes the link: A's journal lease is still held, so B waits for it to lapse.
    const b = new InboundJournal(state, "B", 600, silentLogger());
    await b.open();
    expect(await b.claimOrphans(0)).toEqual([]);
    const t0 = Date.now();
    const replay = await b.claimOrphans(2_000);
    expect(Date.now() - t0).toBeGreaterThan(100);
    expect(replay.map((e) => e.el.getChildText("body"))).toEqual(["hello 3", "hello 4", "hello 5", "hello 6"]);
    for (const e of replay) await handle(e);

    expect(bodies(ctx)).toEqual(["hello 1", "hello 2", "hello 3", "hello 4", "hello 5", "hello 6"]);
    expect(await redis.exists(keys.key("state", "xmpp", journalName("A")))).toBe(0);
    expect(await redis.hexists(keys.key("state", "xmpp", JOURNALS), "A")).toBe(0);
    expect(await b.claimOrphans(0)).toEqual([]); // nothing is replayed twice
    await b.close();
    expect(await redis.hexists(keys.key("state", "xmpp", JOURNALS), "B")).toBe(0);
  });

  it("leaves a draining journal to its live holder, and takes it over once that holder stops renewing", async () => {
    const state = new RedisAdapterStateStore(redis, keys, asNetworkId("xmpp"));
    const a = new InboundJournal(state, "C", 600, silentLogger());
    await a.open();
    const read = [1, 2].map((n) => a.append(message(n)));
    a.drain(100); // a graceful stop: the link is closed, C stores its backlog and renews meanwhile
    const b = new InboundJournal(state, "D", 600, silentLogger());
    await b.open();
    expect(await b.claimOrphans(1_000)).toEqual([]); // draining: not waited for, not taken while renewed
    await read[0]!.done();
    await a.close(); // killed mid-drain: a close that finds stanzas left keeps the journal registered
    await new Promise((r) => setTimeout(r, 700));
    const replay = await b.claimOrphans(0);
    expect(replay.map((e) => e.el.attrs.id)).toEqual(["m2"]);
    await replay[0]!.done();
    await read[1]!.done();
    expect(await redis.hexists(keys.key("state", "xmpp", JOURNALS), "C")).toBe(0);
    await b.close();
  });
});
