/**
 * The order protocol's Lua steps (src/delivery/order.ts), driven by hand on the real Redis so the
 * interleavings that are rare under load happen deterministically. BullMQ's part is modelled by
 * its keys: a job hash, the delayed set (an ordered job is added delayed), the wait list.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConversationOrder, defineOrderScripts, registerInOrder, type LineKeys } from "../../../src/delivery/order.js";
import { cleanup, SHARED_REDIS, uniquePrefix } from "./helpers.js";

const prefix = uniquePrefix("proto");
let redis: Redis;
let order: ConversationOrder;
let n = 0;
beforeAll(() => { redis = new Redis(SHARED_REDIS); defineOrderScripts(redis); order = new ConversationOrder(redis); });
afterAll(async () => { await cleanup(prefix); redis.disconnect(); });

/** A fresh conversation: its keys, and helpers that model BullMQ's side of each step. */
function conversation() {
  const c = `${prefix}:c${n++}`;
  const qp = `${c}:q:`; // the BullMQ queue's key prefix: job hashes, delayed, wait, failed
  const line: LineKeys = { ord: `${c}:ord`, park: `${c}:park`, hand: `${c}:hand`, qp };
  const sent = (id: string) => `${c}:sent:${id}`;
  /** One enqueue transaction: for each job BullMQ's add (to the wait list), then REGISTER. */
  const add = async (...ids: string[]) => {
    const fresh = await Promise.all(ids.map(async (id) => (await redis.exists(qp + id)) === 0));
    const m = redis.multi();
    ids.forEach((id, i) => {
      if (fresh[i]) m.hset(qp + id, "data", "{}").lpush(`${qp}wait`, id); // BullMQ's add is a no-op for an existing job
      registerInOrder(m, line, id, { parkMs: 60_000, parkMaxMs: 60_000 });
    });
    await m.exec();
  };
  const begin = (id: string) => order.begin(line, sent(id), id);
  const done = (id: string) => order.done(line, sent(id), id, 60, true);
  const waiting = () => redis.lrange(`${qp}wait`, 0, -1);
  const delayed = () => redis.zrange(`${qp}delayed`, "0", "-1");
  /** What BullMQ's own timer (or a worker taking it) does: out of the delayed set. */
  const take = async (id: string) => { await redis.zrem(`${qp}delayed`, id); await redis.lrem(`${qp}wait`, 0, id); };
  return { line, qp, add, begin, done, waiting, delayed, take };
}

describe("order protocol (DESIGN §3 order)", () => {
  it("an idle conversation's first job is woken at enqueue, the others stay parked; each done wakes the next", async () => {
    const c = conversation();
    await c.add("a", "b", "c");
    expect(await c.waiting()).toEqual(["a"]);
    expect(await c.delayed()).toEqual(["b", "c"]);
    await c.take("a");
    expect(await c.begin("a")).toEqual({ verdict: "go", woken: "", after: "" });
    expect(await c.done("a")).toBe("b");
    expect(await c.waiting()).toEqual(["b"]);
    await c.take("b");
    expect(await c.begin("b")).toEqual({ verdict: "go", woken: "", after: "" });
    expect(await c.done("b")).toBe("c");
    expect(await redis.lrange(c.line.ord, 0, -1)).toEqual(["c"]);
    expect(await redis.zrange(c.line.park, "0", "-1")).toEqual(["c"]);
  });

  it("a later enqueue into a busy conversation wakes nothing", async () => {
    const c = conversation();
    await c.add("a");
    await c.add("b");
    expect(await c.waiting()).toEqual(["a"]);
    expect(await c.delayed()).toEqual(["b"]);
  });

  it("re-enqueueing an existing job (waiting, parked, or failed for good) adds no second place; a failed add adds none", async () => {
    const c = conversation();
    await c.add("a", "b"); await c.add("a", "b");
    const m = redis.multi();
    registerInOrder(m, c.line, "x", { parkMs: 60_000, parkMaxMs: 60_000 }); // BullMQ's add of x failed: no job, no place
    await m.exec();
    await redis.hset(c.qp + "f", "data", "{}"); await redis.zadd(`${c.qp}failed`, 1, "f"); // kept for the admin
    await c.add("f");
    expect(await redis.lrange(c.line.ord, 0, -1)).toEqual(["a", "b"]);
    expect(await c.waiting()).toEqual(["a"]);
    expect(await c.delayed()).toEqual(["b"]);
  });

  it("the race: predecessor finishes while the successor is between BEGIN and moveToDelayed; PARKED wakes it", async () => {
    const c = conversation();
    await c.add("a", "b");
    await c.take("a");
    await c.take("b"); // b's safety net fired: a worker has it out of turn
    expect(await c.begin("b")).toEqual({ verdict: "park", woken: "", after: "" });
    expect(await c.done("a")).toBe(""); // b is the head now, but still active: nothing to wake
    await redis.zadd(`${c.qp}delayed`, 2, "b"); // b's moveToDelayed
    expect(await order.parked(c.line)).toBe("b");
    expect(await c.waiting()).toEqual(["b"]);
  });

  it("a re-run after done (the worker died before BullMQ recorded the job finished) hands on once, wakes nothing twice", async () => {
    const c = conversation();
    await c.add("a", "b");
    await c.take("a");
    expect((await c.begin("a")).verdict).toBe("go");
    expect(await c.done("a")).toBe("b");
    expect(await c.begin("a")).toEqual({ verdict: "sent", woken: "", after: "" });
    expect(await c.waiting()).toEqual(["b"]);
  });

  it("a job fetched out of turn behind a parked head wakes that head", async () => {
    const c = conversation();
    await c.add("a", "b");
    await c.take("a");
    await redis.zadd(`${c.qp}delayed`, 2, "a"); await redis.zadd(c.line.park, 0, "a"); // a parked as the head (a lost wake)
    await c.take("b");
    expect(await c.begin("b")).toEqual({ verdict: "park", woken: "a", after: "" });
    expect(await c.waiting()).toEqual(["a"]);
  });

  it("a head in retry backoff (delayed, not parked) is not woken by a job passing by", async () => {
    const c = conversation();
    await c.add("a", "b");
    await c.take("a");
    expect((await c.begin("a")).verdict).toBe("go");
    await redis.zadd(`${c.qp}delayed`, 2, "a"); // a failed, transient: BullMQ's backoff
    await c.take("b");
    expect(await c.begin("b")).toEqual({ verdict: "park", woken: "", after: "" });
    expect(await c.delayed()).toEqual(["a"]);
  });

  it("skips ghost heads: a job that no longer exists or failed for good, when a job begins or a done hands on", async () => {
    const c = conversation();
    await c.add("a", "b", "c", "d", "e");
    await redis.del(c.qp + "a");
    await redis.zadd(`${c.qp}failed`, "1", "b");
    await c.take("c");
    expect((await c.begin("c")).verdict).toBe("go");
    expect(await redis.lrange(c.line.ord, 0, -1)).toEqual(["c", "d", "e"]);
    await redis.del(c.qp + "d");
    expect(await c.done("c")).toBe("e");
    expect(await redis.lrange(c.line.ord, 0, -1)).toEqual(["e"]);
  });

  it("a job not in line (an admin retry after its failure) runs at once", async () => {
    const c = conversation();
    await c.add("a");
    expect((await c.begin("zz")).verdict).toBe("go");
  });
});
