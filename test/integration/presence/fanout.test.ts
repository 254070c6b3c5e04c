/**
 * Fan-out (DESIGN §4; RFC 2779 2.2.5, 3.2.3): one change → one fan-out job → one notification
 * per permitted watcher, grouped by network, batched; bursts coalesce. The last test runs on the
 * real BullMQ delivery service.
 */
import { afterEach, describe, expect, it } from "vitest";
import { endpoint, type Endpoint } from "../../../src/model/address.js";
import { createDeliveryService, type BullDeliveryService } from "../../../src/delivery/index.js";
import { PresenceHarness, alice } from "./support/harness.js";
import { cleanup, SHARED_REDIS, uniquePrefix, waitFor } from "../delivery/helpers.js";

let h: PresenceHarness | undefined;
let bull: BullDeliveryService | undefined;
let bullPrefix = "";
afterEach(async () => {
  await bull?.close();
  bull = undefined;
  if (bullPrefix) await cleanup(bullPrefix);
  bullPrefix = "";
  await h?.close();
  h = undefined;
});

/** `n` watchers alternating between Matrix and XMPP, over several domains, all approved. */
async function watchers(harness: PresenceHarness, n: number, presentity: Endpoint): Promise<Endpoint[]> {
  await harness.admin.setAccessRules(`${presentity.network}/${presentity.address}`, { subscribe: "anyone" }, "test");
  const out: Endpoint[] = [];
  for (let i = 0; i < n; i++) {
    const w = i % 2 === 0 ? endpoint(`w${i}@d${i % 7}.example.net`, "xmpp") : endpoint(`w${i}@matrix.example.org`, "matrix");
    out.push(w);
    await harness.act("request", w, presentity);
  }
  await harness.drain();
  harness.clearPeers();
  return out;
}

describe("fan-out", () => {
  it("T-2.2.5 one change with 500 watchers: one fan-out job, exactly 500 notifications, no duplicates, batched per network", async () => {
    h = new PresenceHarness();
    await watchers(h, 500, alice);
    h.memory!.stored.length = 0;
    h.memory!.enqueueCalls = 0;
    h.memory!.ran.length = 0;
    await h.publish(alice, "open");
    expect(h.memory!.pending("presence").map((s) => (s.payload as { op: string }).op)).toEqual(["fanout"]);
    await h.drain();
    const delivered = [...h.peer("xmpp").presences, ...h.peer("matrix").presences];
    expect(delivered).toHaveLength(500);
    expect(new Set(delivered.map((n) => n.watcher.address)).size).toBe(500);
    // The fan-out job, then one enqueue of at most `buckets` batch jobs per network.
    expect(h.memory!.enqueueCalls).toBe(2);
    const batches = h.memory!.ran.filter((j) => (j.payload as { op: string }).op === "batch");
    expect(batches.length).toBeLessThanOrEqual(2 * 64);
    expect(new Set(batches.map((b) => b.network))).toEqual(new Set(["xmpp", "matrix"]));
  });

  it("T-3.2.3 with N watchers of which k are blocked, exactly N−k are notified", async () => {
    h = new PresenceHarness();
    const all = await watchers(h, 40, alice);
    const blocked = all.filter((_, i) => i % 5 === 0);
    await h.admin.setAccessRules("xmpp/alice@chat.example.org", { subscribe: "anyone", blockSubscribers: blocked.map((w) => w.address) }, "test");
    await h.drain();
    h.clearPeers();
    h.clock += 5000;
    await h.publish(alice, "open");
    await h.drain();
    const got = new Set([...h.peer("xmpp").presences, ...h.peer("matrix").presences].map((n) => n.watcher.address));
    expect(got.size).toBe(40 - blocked.length);
    for (const b of blocked) expect(got.has(b.address)).toBe(false);
  });

  it("a burst of 100 changes in 1 s sends each watcher at most 2 notifications, the last with the newest state", async () => {
    h = new PresenceHarness();
    const all = await watchers(h, 20, alice);
    for (let i = 0; i < 100; i++) {
      h.clock += 10;
      await h.publish(alice, "open", { note: `change ${i}` });
      await h.drain(); // worst case: workers idle, every job runs at once
      await h.service.tick();
    }
    h.clock += 1000;
    expect(await h.service.tick()).toMatchObject({ fanouts: 1 });
    await h.drain();
    for (const w of all) {
      const seen = h.seen(w, alice);
      expect(seen.length).toBeGreaterThanOrEqual(1);
      expect(seen.length).toBeLessThanOrEqual(2);
      expect(seen.at(-1)!.tuples[0]!.note).toEqual({ en: "change 99" });
    }
  });

  it("a watcher whose delivery fails in a batch is retried alone; the others hear once", async () => {
    h = new PresenceHarness();
    const all = await watchers(h, 30, alice);
    const victim = all.find((w) => w.network === "matrix")!;
    const matrix = h.adapters.get(victim.network)!;
    const original = matrix.deliverPresence.bind(matrix);
    let failOnce = true;
    matrix.deliverPresence = async (n) => {
      if (failOnce && n.watcher.address === victim.address) { failOnce = false; throw new Error("link hiccup"); }
      return original(n);
    };
    h.memory!.stored.length = 0;
    await h.publish(alice, "open");
    await h.drain();
    for (const w of all) expect(h.seen(w, alice)).toHaveLength(1);
    const retried = h.memory!.stored.filter((s) => (s.payload as { op: string; watcher?: { address: string } }).op === "notify");
    expect(retried.map((s) => (s.payload as { watcher: { address: string } }).watcher.address)).toEqual([victim.address]);
  });

  it("T-2.2.4 a watcher with 500 subscriptions gets 500 initial states from one job, whatever the domains", async () => {
    h = new PresenceHarness();
    const watcher = endpoint("fan@matrix.example.org", "matrix");
    const presentities = Array.from({ length: 500 }, (_, i) => endpoint(`p${i}@d${i % 50}.example.net`, "xmpp"));
    for (const p of presentities) {
      await h.admin.setAccessRules(`xmpp/${p.address}`, { subscribe: "anyone" }, "test");
      await h.publish(p, "open", { note: p.address });
      await h.act("request", watcher, p);
    }
    await h.drain();
    h.clearPeers();
    h.memory!.stored.length = 0;
    for (const p of presentities) expect(await h.probe(watcher, p)).toEqual({ status: "accepted" });
    expect(h.memory!.stored.map((s) => (s.payload as { op: string }).op)).toEqual(["probes"]);
    await h.drain();
    const seen = h.seen(watcher);
    expect(seen).toHaveLength(500);
    expect(new Set(seen.map((p) => p.tuples[0]!.note!.en)).size).toBe(500);
  });

  it("a change whose fan-out could not be enqueued is still fanned out by the timer", async () => {
    h = new PresenceHarness();
    const [w] = await watchers(h, 1, alice);
    h.memory!.failNextEnqueue = true;
    expect(await h.publish(alice, "open")).toEqual({ status: "accepted" });
    await h.drain();
    expect(h.seen(w!)).toEqual([]);
    expect(await h.service.tick()).toMatchObject({ fanouts: 1 });
    await h.drain();
    expect(h.seen(w!, alice)).toHaveLength(1);
  });

  it("T-2.2.5 on the real BullMQ delivery service: every permitted watcher is notified once, subscriptions answered", async () => {
    bullPrefix = uniquePrefix("h6-presence");
    bull = await createDeliveryService({ networks: [endpoint("x@y.org", "xmpp").network, endpoint("x@y.org", "matrix").network], prefix: bullPrefix, redisUrl: SHARED_REDIS });
    h = new PresenceHarness({ delivery: bull });
    await bull.startWorkers(h.handler);
    const presentity = alice;
    await h.admin.setAccessRules("alice@chat.example.org", { subscribe: "anyone", blockSubscribers: ["w3@matrix.example.org"] }, "test");
    const list: Endpoint[] = [];
    for (let i = 0; i < 200; i++) {
      const w = i % 2 === 0 ? endpoint(`w${i}@d${i % 7}.example.net`, "xmpp") : endpoint(`w${i}@matrix.example.org`, "matrix");
      list.push(w);
      await h.act("request", w, presentity);
    }
    const outcomes = () => h!.peer("xmpp").subscriptions.length + h!.peer("matrix").subscriptions.length;
    await waitFor(() => outcomes() >= 199, 15_000, "199 approvals");
    h.clearPeers();
    h.clock += 5000;
    await h.publish(presentity, "open", { note: "through BullMQ" });
    const delivered = () => [...h!.peer("xmpp").presences, ...h!.peer("matrix").presences].filter((n) => n.presence.tuples[0]?.note?.en === "through BullMQ");
    await waitFor(() => delivered().length >= 199, 15_000, "199 notifications");
    const addresses = delivered().map((n) => n.watcher.address);
    expect(new Set(addresses).size).toBe(addresses.length);
    expect(addresses).not.toContain("w3@matrix.example.org");
    expect(outcomes()).toBe(0);
  });
});
