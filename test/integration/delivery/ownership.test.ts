/**
 * Worker processes share a network's queues (src/delivery/ownership.ts): every queue has exactly
 * one owner among the live members, a member that leaves hands its queues on at once, and a member
 * that dies (stops renewing) is replaced within its lease plus one renewal.
 */
import { afterEach, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { silentLogger } from "../../../src/log/logger.js";
import { PartitionOwnership } from "../../../src/delivery/ownership.js";
import { keyspace } from "../../../src/store/keys.js";
import { cleanup, NET, NET2, SHARED_REDIS, uniquePrefix, waitFor } from "./helpers.js";

const QUEUES = 10; // 5 kinds × 2 partitions
const LEASE_MS = 600;

describe("delivery queue ownership (issue 14)", () => {
  const prefix = uniquePrefix("own");
  const clients: Redis[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.disconnect();
    await cleanup(prefix);
  });

  const member = (leased = true) => {
    const redis = new Redis(SHARED_REDIS);
    clients.push(redis);
    const changes: string[] = [];
    const workers = [`w-${clients.length}-a`, `w-${clients.length}-b`];
    const gaveBack: string[] = [];
    const o = new PartitionOwnership({
      redis, keys: keyspace(prefix), leaseMs: LEASE_MS, leased, log: silentLogger(), onChange: (n) => changes.push(n),
      workerIds: () => workers, onLapsed: async (_n, ids) => { gaveBack.push(...ids); },
    });
    return { o, redis, changes, workers, gaveBack };
  };
  const owned = (o: PartitionOwnership, net = NET) => Array.from({ length: QUEUES }, (_, i) => i).filter((i) => o.owns(net, i));

  it("splits a network's queues between its live members, one owner each", async () => {
    const [a, b, c] = [member(), member(), member()];
    await a.o.set(NET, true);
    expect(owned(a.o)).toHaveLength(QUEUES); // alone: every queue
    await b.o.set(NET, true);
    await c.o.set(NET, true);
    await waitFor(() => owned(a.o).length + owned(b.o).length + owned(c.o).length === QUEUES, 5000, "the three to agree");
    const all = [...owned(a.o), ...owned(b.o), ...owned(c.o)].sort((x, y) => x - y);
    expect(all).toEqual(Array.from({ length: QUEUES }, (_, i) => i)); // disjoint and complete
    for (const m of [a, b, c]) expect(owned(m.o).length).toBeGreaterThanOrEqual(3);
    // Another network's members are its own: a process not taking it owns none of its queues.
    await b.o.set(NET2, true);
    expect(owned(b.o, NET2)).toHaveLength(QUEUES);
    expect(owned(a.o, NET2)).toHaveLength(0);
  });

  it("the jobs of a member whose lease lapsed are given back by the member that sees it, never by the member itself (held up, still running them)", async () => {
    const a = member();
    await a.o.set(NET, true);
    const set = `${prefix}:dlv:members:${NET}`;
    // a held up past its lease (alone, so its own renewals are the ones that see it lapsed).
    const stop = setInterval(() => { void a.redis.zadd(set, 1, a.o.id); }, 20);
    await new Promise((r) => setTimeout(r, LEASE_MS)); // four renewals
    clearInterval(stop);
    expect(a.gaveBack).toEqual([]);
    // b joins, then dies (stops renewing): a gives back b's running jobs, once.
    const b = member();
    await b.o.set(NET, true);
    await b.o.leaveAll().catch(() => undefined);
    await a.redis.zadd(set, Date.now() + LEASE_MS, b.o.id); // b's last renewal, not its graceful leave
    await a.redis.hset(`${prefix}:dlv:workers:${NET}`, Object.fromEntries(b.workers.map((w) => [w, b.o.id])));
    await waitFor(() => a.gaveBack.length > 0, 5000, "a to give back b's jobs");
    expect(a.gaveBack.sort()).toEqual([...b.workers].sort());
  });

  it("a member that leaves hands its queues on at once; one that dies, within its lease", async () => {
    const [a, b] = [member(), member()];
    await a.o.set(NET, true);
    await b.o.set(NET, true);
    await waitFor(() => owned(a.o).length === QUEUES / 2 && owned(b.o).length === QUEUES / 2, 5000, "an even split");

    await b.o.leaveAll();
    await waitFor(() => owned(a.o).length === QUEUES, LEASE_MS / 2, "a to take b's queues after b left");
    expect(owned(b.o)).toHaveLength(0);

    const c = member();
    await c.o.set(NET, true);
    await waitFor(() => owned(a.o).length === QUEUES / 2, 5000, "a to share with c");
    const died = Date.now();
    c.redis.disconnect(); // c stops renewing, as a process killed with -9
    await waitFor(() => owned(a.o).length === QUEUES, LEASE_MS * 3, "a to take the dead member's queues");
    expect(Date.now() - died).toBeLessThan(LEASE_MS * 1.25 + 500);
    expect(a.changes.length).toBeGreaterThanOrEqual(4);
  });

  it("queueSharing every-process: each member serves every queue of the networks it takes, and holds no lease", async () => {
    const [a, b] = [member(false), member(false)];
    await a.o.set(NET, true);
    await b.o.set(NET, true);
    expect(owned(a.o)).toHaveLength(QUEUES);
    expect(owned(b.o)).toHaveLength(QUEUES);
    expect(owned(a.o, NET2)).toHaveLength(0);
    expect(await a.redis.exists(keyspace(prefix).key("dlv", "members", NET))).toBe(0);
    await a.o.set(NET, false);
    expect(owned(a.o)).toHaveLength(0);
  });
});
