/**
 * One `--role workers` Parley core for `npm run bench:scale` (bench/scale.ts), forked with
 * `--import tsx`; config as JSON in PARLEY_BENCH_WORKER. Its recipient network (a test double)
 * counts deliveries and keeps their accept → adapter latency. Over IPC:
 *   → parent  { type: "ready" }                       once the workers run
 *   → parent  { type: "progress", delivered }         every 50 ms while the count moves
 *   ← parent  { type: "snapshot" }                    answered by
 *   → parent  { type: "snapshot", delivered, cpuUs, latencies }  (latencies since the last snapshot)
 * Exits on SIGTERM (graceful stop) or when the parent goes away.
 */
import { Worker } from "bullmq";
import { gatewayRig, sentAt } from "./gateway-rig.js";

export interface ScaleWorkerConfig {
  readonly redisUrl: string;
  readonly cluster?: readonly string[];
  readonly partitions?: number;
  readonly prefix: string;
  readonly concurrency: number;
}

export interface WorkerSnapshot {
  readonly type: "snapshot"; readonly delivered: number; readonly cpuUs: number; readonly latencies: number[];
  /** BullMQ fetches (moveToActive), those that returned no job, blocking waits, and voluntary context switches (event-loop sleeps). */
  readonly fetches: number; readonly emptyFetches: number; readonly waits: number; readonly wakeups: number;
}

/** Counts BullMQ's fetches and blocking waits in this process (bench instrumentation, prototype wrap). */
const counts = { fetches: 0, emptyFetches: 0, waits: 0 };
function countFetches(): void {
  const proto = Worker.prototype as unknown as { moveToActive(...a: unknown[]): Promise<unknown>; waitForJob(...a: unknown[]): Promise<unknown> };
  const fetch = proto.moveToActive;
  proto.moveToActive = async function (this: unknown, ...a: unknown[]) {
    counts.fetches++;
    const job = await fetch.apply(this, a);
    if (!job) counts.emptyFetches++;
    return job;
  };
  const wait = proto.waitForJob;
  proto.waitForJob = function (this: unknown, ...a: unknown[]) { counts.waits++; return wait.apply(this, a); };
}

const now = () => performance.timeOrigin + performance.now();

async function main(): Promise<void> {
  process.on("disconnect", () => process.exit(0)); // first: a parent that dies during start-up leaves no orphan
  countFetches();
  const cfg = JSON.parse(process.env.PARLEY_BENCH_WORKER ?? "{}") as ScaleWorkerConfig;
  let delivered = 0;
  let latencies: number[] = [];
  const rig = await gatewayRig({
    redisUrl: cfg.redisUrl, cluster: cfg.cluster, partitions: cfg.partitions, role: "workers", prefix: cfg.prefix, concurrency: cfg.concurrency,
    onDeliver: (m) => { delivered++; latencies.push(now() - sentAt(m)); },
  });
  let reported = 0;
  const progress = setInterval(() => {
    if (delivered === reported || !process.connected) return;
    reported = delivered;
    process.send?.({ type: "progress", delivered });
  }, 50);
  process.on("message", (m: { type?: string }) => {
    if (m.type !== "snapshot") return;
    const cpu = process.cpuUsage();
    const snap: WorkerSnapshot = { type: "snapshot", delivered, cpuUs: cpu.user + cpu.system, latencies, ...counts, wakeups: process.resourceUsage().voluntaryContextSwitches };
    latencies = [];
    process.send?.(snap);
  });
  process.on("SIGTERM", () => {
    clearInterval(progress);
    void rig.close().finally(() => process.exit(0));
  });
  process.send?.({ type: "ready" });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
