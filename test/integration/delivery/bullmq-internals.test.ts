/**
 * One test per BullMQ / ioredis internal that src/delivery/bullmq.ts relies on, so an upgrade that
 * moves one fails here, by name, before it fails somewhere obscure. Each runs on a private
 * redis-server (SCRIPT FLUSH must not touch the shared one).
 */
import { readFileSync } from "node:fs";
import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addJobInTransaction, definedScripts, isNoScript, isStalledOut, openTransaction, PROMOTE_LUA, PROVED_WITH, releaseLocksOf } from "../../../src/delivery/bullmq.js";
import { RedisServer } from "../../support/redis-server.js";
import { uniquePrefix, waitFor } from "./helpers.js";

let server: RedisServer;
let redis: Redis;
const open: Array<{ close(): Promise<void> }> = [];
beforeAll(async () => {
  server = await RedisServer.start();
  redis = new Redis(server.url, { maxRetriesPerRequest: null });
});
afterAll(async () => {
  for (const o of open) await o.close();
  redis.disconnect();
  await server.destroy();
});

function queue(): Queue<{ n: number }> {
  const q = new Queue<{ n: number }>("q", { connection: redis, prefix: uniquePrefix("bullint") });
  open.push(q);
  return q;
}

describe("the BullMQ internals Parley relies on (src/delivery/bullmq.ts)", () => {
  it("package.json pins bullmq and ioredis to the versions the internals were proved with", () => {
    const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { dependencies: Record<string, string> };
    expect(pkg.dependencies.bullmq).toBe(PROVED_WITH.bullmq);
    expect(pkg.dependencies.ioredis).toBe(PROVED_WITH.ioredis);
    const installed = (name: string) => (JSON.parse(readFileSync(`node_modules/${name}/package.json`, "utf8")) as { version: string }).version;
    expect(installed("bullmq")).toBe(PROVED_WITH.bullmq);
    expect(installed("ioredis")).toBe(PROVED_WITH.ioredis);
  });

  it("addJobToTransaction: a job added on our MULTI exists after EXEC, and not before, beside our own command", async () => {
    const q = queue();
    const multi = await openTransaction(q);
    multi.set(q.toKey("mine"), "1");
    const added = addJobInTransaction(multi, q, "message", { n: 1 }, { jobId: "k_a" });
    expect(await q.getJob("k_a")).toBeUndefined();
    expect(await multi.exec()).toEqual([[null, "OK"], [null, "k_a"]]);
    await added;
    expect((await q.getJob("k_a"))?.data).toEqual({ n: 1 });
    expect(await redis.get(q.toKey("mine"))).toBe("1");
    expect(await q.getJobCounts("waiting")).toEqual({ waiting: 1 });
  });

  it("addJobToTransaction: adding the same job id again is a no-op", async () => {
    const q = queue();
    for (let i = 0; i < 2; i++) {
      const multi = await openTransaction(q);
      const added = addJobInTransaction(multi, q, "message", { n: i }, { jobId: "k_same" });
      await multi.exec();
      await added;
    }
    expect((await q.getJob("k_same"))?.data).toEqual({ n: 0 });
    expect(await q.getJobCounts("waiting")).toEqual({ waiting: 1 });
  });

  it("PROMOTE_LUA repeats BullMQ's promote: same keys after it, a waiting worker takes the job, a paused queue gets no marker", async () => {
    const ours = (q: Queue, id: string) => redis.eval(`${PROMOTE_LUA} return promote(ARGV[1], ARGV[2])`, 0, q.toKey(""), id);
    /** Everything promote-9.lua writes, with the stream's ids and timestamps left out. */
    const state = async (q: Queue, id: string) => ({
      counts: await q.getJobCounts("delayed", "waiting"),
      state: await q.getJobState(id),
      wait: await redis.lrange(q.toKey("wait"), 0, -1),
      marker: await redis.zrange(q.toKey("marker"), "0", "-1", "WITHSCORES"),
      delay: await redis.hget(q.toKey(id), "delay"),
      event: (await redis.xrevrange(q.toKey("events"), "+", "-", "COUNT", 1))[0]?.[1],
    });
    for (const paused of [false, true]) {
      const [theirs, mine] = [queue(), queue()];
      for (const q of [theirs, mine]) {
        if (paused) await q.pause();
        await q.add("message", { n: 1 }, { jobId: "k_w" });
        await q.add("message", { n: 2 }, { jobId: "k_d", delay: 60_000 });
        await redis.del(q.toKey("marker"));
      }
      await theirs.getBackend().promote("k_d");
      expect(await ours(mine, "k_d")).toBe(1);
      expect(await state(mine, "k_d"), paused ? "paused" : "running").toEqual(await state(theirs, "k_d"));
      expect(await ours(mine, "k_d"), "not delayed any more").toBe(0);
      if (paused) expect((await state(mine, "k_d")).marker).toEqual([]);
    }
    const q = queue();
    await q.add("message", { n: 3 }, { jobId: "k_t", delay: 60_000 });
    const taken: string[] = [];
    const worker = new Worker(q.name, async (job) => { taken.push(job.id!); }, { connection: redis, prefix: q.opts.prefix });
    open.push(worker);
    await worker.waitUntilReady();
    await ours(q, "k_t");
    await waitFor(() => taken.length === 1, 5000, "the worker to take the promoted job");
  });

  it("PROMOTE_LUA's park: a job just added waiting is delayed as by a delayed add (state, marker), and a worker takes it when due, not before", async () => {
    const [theirs, mine] = [queue(), queue()];
    await theirs.add("message", { n: 1 }, { jobId: "k_p", delay: 400 });
    await mine.add("message", { n: 1 }, { jobId: "k_p" });
    const parkedAt = Date.now();
    await redis.eval(`${PROMOTE_LUA} park(ARGV[1], ARGV[2], ARGV[3])`, 0, mine.toKey(""), "k_p", 400);
    for (const q of [theirs, mine]) {
      expect(await q.getJobState("k_p")).toBe("delayed");
      expect(await q.getJobCounts("delayed", "waiting")).toEqual({ delayed: 1, waiting: 0 });
      const marker = await redis.zscore(q.toKey("marker"), "1");
      expect(Number(marker)).toBeGreaterThanOrEqual(parkedAt + 300);
    }
    const takenAt: number[] = [];
    const worker = new Worker(mine.name, async () => { takenAt.push(Date.now()); }, { connection: redis, prefix: mine.opts.prefix });
    open.push(worker);
    await waitFor(() => takenAt.length === 1, 10_000, "the worker to take the parked job when due");
    expect(takenAt[0]! - parkedAt).toBeGreaterThanOrEqual(390);
  });

  it("ioredis scriptsSet: lists a defined command's Lua, and reloading it cures NOSCRIPT inside a MULTI", async () => {
    const r = new Redis(server.url);
    try {
      const lua = "return redis.call('INCR', KEYS[1])";
      r.defineCommand("parleyTestIncr", { numberOfKeys: 1, lua });
      expect(definedScripts(r)).toContain(lua);
      const incr = (m: unknown) => (m as { parleyTestIncr(k: string): unknown }).parleyTestIncr("ns:counter");
      await incr(r); // loads the script: now the MULTI path sends EVALSHA
      await r.script("FLUSH");
      const m = r.multi();
      incr(m);
      const [[err]] = (await m.exec()) as [[Error | null, unknown]];
      expect(isNoScript(err)).toBe(true);
      for (const s of definedScripts(r)) await r.script("LOAD", s);
      const again = r.multi();
      incr(again);
      expect(await again.exec()).toEqual([[null, 2]]);
    } finally { r.disconnect(); }
  });

  it("the stalled check's failedReason: a job whose lock lapses past maxStalledCount fails with it", async () => {
    const q = queue();
    await q.add("message", { n: 1 }, { jobId: "k_s" });
    // A manual worker takes the job and never renews its lock (it processes nothing).
    const taker = new Worker(q.name, null, { connection: redis, prefix: q.opts.prefix, lockDuration: 300 });
    open.push(taker);
    expect((await taker.getNextJob("token-1"))?.id).toBe("k_s");
    const reasons: string[] = [];
    const checker = new Worker(q.name, async () => undefined, { connection: redis, prefix: q.opts.prefix, maxStalledCount: 0, stalledInterval: 200 });
    open.push(checker);
    checker.on("failed", (_job, err) => { reasons.push(err.message); });
    await waitFor(() => reasons.length > 0, 10_000, "the stalled job to fail");
    expect(isStalledOut(new Error(reasons[0]))).toBe(true);
  });

  it("releaseLocksOf: a running job's lock holds `<worker.id>:<n>`; released, the next stalled check gives it to another worker at once, long before its lock would expire", async () => {
    const q = queue();
    await q.add("message", { n: 1 }, { jobId: "k_d" });
    await q.add("message", { n: 2 }, { jobId: "k_live" });
    // The "dead" worker's job, and another worker's (alive), both with locks of a minute.
    const dead = new Worker(q.name, null, { connection: redis, prefix: q.opts.prefix, lockDuration: 60_000 });
    const alive = new Worker(q.name, null, { connection: redis, prefix: q.opts.prefix, lockDuration: 60_000 });
    open.push(dead, alive);
    expect((await dead.getNextJob(`${dead.id}:0`))?.id).toBe("k_d");
    expect((await alive.getNextJob(`${alive.id}:0`))?.id).toBe("k_live");
    expect(await redis.get(q.toKey("k_d:lock"))).toBe(`${dead.id}:0`);
    // A stalled check ran just now (it holds the next off for stalledInterval); released, it does not wait.
    await redis.set(q.toKey("stalled-check"), "1", "PX", 60_000);
    expect(await releaseLocksOf(redis, q.toKey(""), [dead.id])).toBe(1);
    const ran: string[] = [];
    const checker = new Worker(q.name, async (job) => { ran.push(job.id!); }, { connection: redis, prefix: q.opts.prefix, stalledInterval: 60_000 });
    open.push(checker);
    await waitFor(() => ran.includes("k_d"), 10_000, "the released job to run again");
    expect(ran).toEqual(["k_d"]); // the live worker's job keeps its lock
    expect(await redis.get(q.toKey("k_live:lock"))).toBe(`${alive.id}:0`);
  });
});
