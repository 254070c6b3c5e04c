/**
 * Worker processes share a network's queues (src/delivery/ownership.ts), so a dead process's
 * queues have nobody until another takes them: `kill -9` of a worker process, with the product's
 * default lease, lock and stalled-check timings, and both the job it was running and a job enqueued
 * after its death are delivered by the survivor within 5 s (issue 10's bound on a crash stall).
 * The job it was running goes again when its lease lapses, not when its lock expires: shown with
 * a lock duration far longer than the lease.
 */
import { describe, expect, it } from "vitest";
import type { TestPayload, WorkerProcessConfig } from "../../support/delivery-worker-process.js";
import { enqueueAsSource, NET, SHARED_REDIS, uniquePrefix, waitFor } from "./helpers.js";
import { kill9, spawnWorker, useProcessRig, type ProcessRig } from "./processes.js";

const job = (conv: string) => ({ kind: "message" as const, network: NET, key: `${conv}.0`, conversation: conv, payload: { i: 0, conv, t0: Date.now() } satisfies TestPayload });

/** When and by which process the first message of `conv` was delivered. */
async function deliveredAt(rig: ProcessRig, base: string, conv: string): Promise<{ at: number; pid: number } | undefined> {
  const [e] = await rig.rec.lrange(`${base}:recv:${conv}`, 0, 0);
  return e ? { at: Number(e.split("|")[3]), pid: Number(e.split("|")[2]) } : undefined;
}

/**
 * A victim process running (hanging on) the job of conversation `held`, a survivor beside it in
 * the member set; then the victim is killed. Returns the survivor and when the kill was.
 */
async function killWhileRunning(rig: ProcessRig, prefix: string, base: string, cfg: WorkerProcessConfig, held: string) {
  const victim = await spawnWorker({ ...cfg, hang: [held] });
  rig.workers.push(victim);
  await enqueueAsSource(rig.producer, [job(held)]);
  await waitFor(async () => (await rig.rec.llen(`${base}:hanging`)) === 1, 10_000, "the victim to run the job");
  const survivor = await spawnWorker({ ...cfg, hang: [] });
  rig.workers.push(survivor);
  await waitFor(async () => (await rig.rec.zcard(`${prefix}:dlv:members:${NET}`)) === 2, 10_000, "both processes in the member set");
  await kill9(victim);
  return { survivor, killedAt: Date.now() };
}

describe("a dead worker process's queues are taken over (issue 10, issue 14)", () => {
  const prefix = uniquePrefix("takeover");
  const base = `${prefix}:t`;
  const rig = useProcessRig({ prefix, service: {} });

  it("kill -9 of a worker process: its running job and a new one go out from the survivor within 5 s", { timeout: 60_000 }, async () => {
    const { survivor, killedAt } = await killWhileRunning(rig, prefix, base, { redisUrl: SHARED_REDIS, prefix, networks: [NET] }, "h");
    await enqueueAsSource(rig.producer, [job("n")]);
    await waitFor(async () => (await deliveredAt(rig, base, "h")) !== undefined && (await deliveredAt(rig, base, "n")) !== undefined, 20_000, "both jobs delivered");
    const [h, n] = [(await deliveredAt(rig, base, "h"))!, (await deliveredAt(rig, base, "n"))!];
    console.log(`takeover running_job_stall_ms=${h.at - killedAt} new_job_stall_ms=${n.at - killedAt}`);
    expect(h.pid).toBe(survivor.pid);
    expect(n.pid).toBe(survivor.pid);
    expect(h.at - killedAt).toBeLessThan(5000);
    expect(n.at - killedAt).toBeLessThan(5000);
  });
});

describe("a dead worker process's running jobs go again when its lease lapses, not when their locks expire (issue 10)", () => {
  const prefix = uniquePrefix("takeover-lapse");
  const base = `${prefix}:t`;
  const rig = useProcessRig({ prefix, service: {} });
  // Locks of 30 s: before, the survivor re-ran the dead process's job only once its lock expired.
  const service = { lockDurationMs: 30_000 };

  it("kill -9 with 30 s locks: the job it was running goes out from the survivor within 5 s", { timeout: 60_000 }, async () => {
    const { survivor, killedAt } = await killWhileRunning(rig, prefix, base, { redisUrl: SHARED_REDIS, prefix, networks: [NET], service }, "held");
    await waitFor(async () => (await deliveredAt(rig, base, "held")) !== undefined, 20_000, "the held job delivered");
    const held = (await deliveredAt(rig, base, "held"))!;
    console.log(`takeover with 30 s locks: running_job_stall_ms=${held.at - killedAt}`);
    expect(held.pid).toBe(survivor.pid);
    expect(held.at - killedAt).toBeLessThan(5000);
  });
});
