/**
 * The order protocol's Lua steps (src/delivery/order.ts), driven by hand on the real Redis so the
 * interleavings that are rare under load happen deterministically.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConversationOrder, defineOrderScripts, registerInOrder } from "../../../src/delivery/order.js";
import { cleanup, SHARED_REDIS, uniquePrefix } from "./helpers.js";

const prefix = uniquePrefix("proto");
let redis: Redis;
let order: ConversationOrder;
let n = 0;
beforeAll(() => { redis = new Redis(SHARED_REDIS); defineOrderScripts(redis); order = new ConversationOrder(redis); });
afterAll(async () => { await cleanup(prefix); redis.disconnect(); });

/** A fresh conversation: its keys, and a helper that "adds" a job (the job hash BullMQ would write). */
function conversation() {
  const c = `${prefix}:c${n++}`;
  const bull = `${c}:q:`; // the BullMQ queue's key prefix: job hashes and the failed set
  const k = { ord: `${c}:ord`, park: `${c}:park`, sent: (id: string) => `${c}:sent:${id}` };
  const add = async (id: string) => {
    const m = redis.multi();
    registerInOrder(m, k.ord, bull + id, id);
    m.hset(bull + id, "data", "{}");
    await m.exec();
  };
  const begin = (id: string) => order.begin(k.ord, k.park, k.sent(id), id, bull);
  const done = (id: string) => order.done(k.ord, k.park, k.sent(id), id, 60, true);
  return { k, bull, add, begin, done };
}

describe("order protocol (DESIGN §3 order)", () => {
  it("runs the head, parks the rest, and the head's done hands the turn to a parked successor", async () => {
    const c = conversation();
    await c.add("a"); await c.add("b"); await c.add("c");
    expect(await c.begin("b")).toEqual({ verdict: "park", promote: "" });
    expect(await c.begin("a")).toEqual({ verdict: "go", promote: "" });
    expect(await c.done("a")).toBe("b");
    expect(await c.begin("b")).toEqual({ verdict: "go", promote: "" });
    expect(await c.done("b")).toBe("");
    expect(await redis.lrange(c.k.ord, 0, -1)).toEqual(["c"]);
  });

  it("re-enqueueing an existing job, or a key already in line, does not add a second place", async () => {
    const c = conversation();
    await c.add("a"); await c.add("a");
    const m = redis.multi();
    registerInOrder(m, c.k.ord, c.bull + "x", "x"); // add failed after register: x in line, no job
    await m.exec();
    const m2 = redis.multi();
    registerInOrder(m2, c.k.ord, c.bull + "x", "x"); // the retried enqueue
    await m2.exec();
    expect(await redis.lrange(c.k.ord, 0, -1)).toEqual(["a", "x"]);
  });

  it("the race: predecessor finishes while the successor is between BEGIN and moveToDelayed; the re-check says self-promote", async () => {
    const c = conversation();
    await c.add("a"); await c.add("b");
    expect((await c.begin("b")).verdict).toBe("park");
    expect(await c.done("a")).toBe("b"); // a's promote of b would fail: b is still active
    // b's moveToDelayed happens here; then its re-check:
    expect(await order.mustSelfPromote(c.k.ord, c.k.park, "b")).toBe(true);
  });

  it("a worker dying between done and promote: the re-run passing by wakes the parked head", async () => {
    const c = conversation();
    await c.add("a"); await c.add("b"); await c.add("c");
    expect((await c.begin("b")).verdict).toBe("park");
    expect((await c.begin("a")).verdict).toBe("go");
    expect(await c.done("a")).toBe("b"); // ... and a's worker dies before promoting b
    // Within a second nobody is told to wake b again (it may well be waiting to run already):
    expect(await c.begin("c")).toEqual({ verdict: "park", promote: "" });
    // a stalls and re-runs (after its lock expired, modelled by ageing the wake time): its sent
    // marker exists, so BEGIN hands on and wakes the parked head b.
    await redis.zadd(c.k.park, 1, "b");
    expect(await c.begin("a")).toEqual({ verdict: "sent", promote: "b" });
    // once b begins as the head it leaves the park set; its done wakes the next parked one, c
    expect(await c.begin("b")).toEqual({ verdict: "go", promote: "" });
    expect(await redis.zrange(c.k.park, "0", "-1")).toEqual(["c"]);
    expect(await c.done("b")).toBe("c");
  });

  it("a job fetched out of turn behind a parked head wakes that head", async () => {
    const c = conversation();
    await c.add("a"); await c.add("b");
    await redis.zadd(c.k.park, 0, "a"); // a lost its promote and sits parked as the head
    expect(await c.begin("b")).toEqual({ verdict: "park", promote: "a" });
  });

  it("skips ghost heads: a job that no longer exists or failed for good", async () => {
    const c = conversation();
    await c.add("a"); await c.add("b"); await c.add("c");
    await redis.del(c.bull + "a");
    await redis.zadd(`${c.bull}failed`, "1", "b");
    expect((await c.begin("c")).verdict).toBe("go");
    expect(await redis.lrange(c.k.ord, 0, -1)).toEqual(["c"]);
  });

  it("a job not in line (an admin retry after its failure) runs at once", async () => {
    const c = conversation();
    await c.add("a");
    expect((await c.begin("zz")).verdict).toBe("go");
  });
});
