import { afterEach, describe, expect, it } from "vitest";
import { DeliveryError } from "../../../src/adapter/contract.js";
import { createDeliveryService, retryBudgetMs, type BullDeliveryService } from "../../../src/delivery/index.js";
import type { DeliveryJobSpec } from "../../../src/delivery/types.js";
import { cleanup, FAST, NET, permanent, RecordingHandler, SHARED_REDIS, transient, uniquePrefix, waitFor } from "./helpers.js";

let svc: BullDeliveryService | undefined;
let prefix = "";
async function service(extra: Record<string, unknown> = {}): Promise<BullDeliveryService> {
  prefix = uniquePrefix("fail");
  svc = await createDeliveryService({ networks: [NET], prefix, redisUrl: SHARED_REDIS, ...FAST, ...extra });
  return svc;
}
afterEach(async () => { await svc?.close(); svc = undefined; await cleanup(prefix); });
const msg = (key: string, conversation?: string): DeliveryJobSpec => ({ kind: "message", network: NET, key, conversation, payload: { key } });

describe("failure classes (DESIGN §3; RFC 2779 5.4.1, 4.2.1)", () => {
  it("T-5.4.1 a permanent failure gives exactly one onFinalFailure, at once, and the conversation goes on", async () => {
    const s = await service({ retry: { attempts: 4, baseMs: 1000, capMs: 4000 } });
    const tries: number[] = [];
    const h = new RecordingHandler((job) => { if (job.key === "p.0") { tries.push(job.attempt); throw permanent(); } });
    await s.startWorkers(h);
    const t0 = Date.now();
    await s.enqueue([msg("p.0", "c"), msg("p.1", "c")]);
    await waitFor(() => h.finalFailures.length === 1 && h.delivered.length === 1, 5000, "final failure and the successor");
    const elapsed = Date.now() - t0;
    expect(tries).toEqual([1]);
    expect(h.finalFailures[0]!.job.key).toBe("p.0");
    expect(h.finalFailures[0]!.error.failureClass).toBe("permanent");
    expect(h.keys()).toEqual(["p.1"]);
    expect(elapsed).toBeLessThan(retryBudgetMs({ attempts: 4, baseMs: 1000, capMs: 4000 }));
    await waitFor(async () => (await s.counts())["message-xmpp"]!.failed === 1, 2000, "the job in the failed set");
    expect(h.finalFailures).toHaveLength(1);
  });

  it("T-4.2.1 a transient failure that keeps failing gives one onFinalFailure after the attempts are spent", async () => {
    const s = await service();
    const tries: number[] = [];
    const h = new RecordingHandler((job) => { tries.push(job.attempt); throw new Error("socket hang up"); });
    await s.startWorkers(h);
    await s.enqueue([msg("t.0")]);
    await waitFor(() => h.finalFailures.length === 1, 5000, "the final failure");
    expect(tries).toEqual([1, 2, 3, 4]);
    expect(h.finalFailures[0]!.error.failureClass).toBe("transient");
    expect(h.finalFailures[0]!.job.attempt).toBe(4);
    // onFinalFailure runs just before BullMQ moves the job to the failed set.
    await waitFor(async () => (await s.listFailed()).length === 1, 2000, "the job in the failed set");
    const failed = await s.listFailed();
    expect(failed[0]).toMatchObject({ key: "t.0", kind: "message", network: NET, attempts: 4 });
    expect(h.finalFailures).toHaveLength(1);
  });

  it("T-5.4.1 failed jobs stay for the admin: list, retry (delivered this time), drop", async () => {
    const s = await service();
    let broken = true;
    const h = new RecordingHandler((job) => { if (broken) throw permanent(`${job.key} refused`); });
    await s.startWorkers(h);
    await s.enqueue([msg("d.0", "c"), msg("d.1")]);
    await waitFor(() => h.finalFailures.length === 2, 5000, "two final failures");
    await waitFor(async () => (await s.listFailed()).length === 2, 2000, "both in the failed set");
    const failed = await s.listFailed();
    expect(failed.map((f) => f.key).sort()).toEqual(["d.0", "d.1"]);
    expect(failed[0]!.failedReason).toMatch(/refused/);
    broken = false;
    const retryId = failed.find((f) => f.key === "d.0")!.id;
    expect(await s.retryFailed(retryId)).toBe(true);
    await waitFor(() => h.keys().includes("d.0"), 5000, "the retried job delivered");
    expect(await s.retryFailed(retryId)).toBe(false);
    const dropId = failed.find((f) => f.key === "d.1")!.id;
    expect(await s.dropFailed(dropId)).toBe(true);
    expect(await s.dropFailed(dropId)).toBe(false);
    expect(await s.listFailed()).toHaveLength(0);
    expect(await s.dropFailed("no-such-queue/x")).toBe(false);
  });

  it("T-2.2.6 a rate-limited answer holds the queue for retry-after without using up attempts", async () => {
    const s = await service();
    let limited = 2;
    const h = new RecordingHandler(() => { if (limited-- > 0) throw new DeliveryError("rate-limited", "rate-limited", "slow down", { retryAfterMs: 150 }); });
    await s.startWorkers(h);
    const t0 = Date.now();
    await s.enqueue([msg("r.0")]);
    await waitFor(() => h.delivered.length === 1, 5000, "delivery after the rate limit");
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    expect(h.delivered[0]!.attempt).toBe(1);
    expect(h.finalFailures).toHaveLength(0);
  });

  it("T-5.4.2 a transient failure is retried with backoff and delivered once", async () => {
    const s = await service();
    let fails = 2;
    const h = new RecordingHandler(() => { if (fails-- > 0) throw transient(); });
    await s.startWorkers(h);
    await s.enqueue([msg("b.0")]);
    await waitFor(() => h.delivered.length === 1, 5000, "delivery");
    expect(h.delivered[0]!.attempt).toBe(3);
  });
});
