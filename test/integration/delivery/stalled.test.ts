/**
 * A job whose worker keeps dying (stalls more than `maxStalledCount`) fails for good: the sender is
 * told once and its conversation goes on (DESIGN §3; RFC 2779 5.4.1).
 */
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { createDeliveryService, type BullDeliveryService } from "../../../src/delivery/index.js";
import type { TestPayload } from "../../support/delivery-worker-process.js";
import { cleanup, NET, RecordingHandler, SHARED_REDIS, uniquePrefix, waitFor } from "./helpers.js";
import { kill9, spawnWorker } from "./processes.js";

const prefix = uniquePrefix("stall");
const service = { maxStalledCount: 0, lockDurationMs: 1000, stalledIntervalMs: 500, parkMs: 500 };
let svc: BullDeliveryService | undefined;
const rec = new Redis(SHARED_REDIS);
afterAll(async () => { await svc?.close(); await cleanup(prefix); rec.disconnect(); });

describe("stalled jobs (DESIGN §3)", () => {
  it("T-5.4.1 a job that stalls past maxStalledCount is reported once and its conversation goes on", { timeout: 60_000 }, async () => {
    const victim = await spawnWorker({ redisUrl: SHARED_REDIS, prefix, networks: [NET], hang: ["h"], service });
    svc = await createDeliveryService({ networks: [NET], prefix, redisUrl: SHARED_REDIS, ...service });
    const p = (i: number): TestPayload => ({ i, conv: "h", t0: Date.now() });
    await svc.enqueue([
      { kind: "message", network: NET, key: "h.0", conversation: "h", payload: p(0) },
      { kind: "message", network: NET, key: "h.1", conversation: "h", payload: p(1) },
    ]);
    await waitFor(async () => (await rec.llen(`${prefix}:t:hanging`)) === 1, 10_000, "the job hanging in the victim");
    await kill9(victim);
    const h = new RecordingHandler();
    await svc.startWorkers(h);
    await waitFor(() => h.finalFailures.length === 1 && h.delivered.length === 1, 20_000, "the stalled job failed and its successor delivered");
    expect(h.finalFailures[0]!.job.key).toBe("h.0");
    expect(h.finalFailures[0]!.error.message).toMatch(/stalled/);
    expect(h.keys()).toEqual(["h.1"]);
    const s = svc;
    await waitFor(async () => (await s.listFailed()).length === 1, 2000, "the job in the failed set");
    const failed = await svc.listFailed();
    expect(failed.map((f) => f.key)).toEqual(["h.0"]);
    expect(h.finalFailures).toHaveLength(1);
  });
});
