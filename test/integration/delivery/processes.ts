/** Spawning delivery worker processes (test/support/delivery-worker-process.ts) for multi-process tests. */
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { afterAll, beforeAll } from "vitest";
import { createDeliveryService, type BullDeliveryService, type DeliveryServiceOptions } from "../../../src/delivery/index.js";
import type { WorkerProcessConfig } from "../../support/delivery-worker-process.js";
import { RedisCluster } from "../../support/redis-cluster.js";
import { cleanup, NET, SHARED_REDIS } from "./helpers.js";

const ENTRY = fileURLToPath(new URL("../../support/delivery-worker-process.ts", import.meta.url));

export interface WorkerProc { readonly child: ChildProcess; readonly pid: number; readonly exited: Promise<void> }

export async function spawnWorker(cfg: WorkerProcessConfig): Promise<WorkerProc> {
  const child = fork(ENTRY, [], {
    execArgv: ["--import", "tsx"],
    env: { ...process.env, PARLEY_TEST_WORKER: JSON.stringify(cfg) },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.once("message", () => resolve());
    child.once("exit", (code) => reject(new Error(`worker exited early (${code})`)));
  });
  return { child, pid: child.pid!, exited };
}

export async function kill9(w: WorkerProc): Promise<void> {
  w.child.kill("SIGKILL");
  await w.exited;
}

export async function stopWorker(w: WorkerProc): Promise<void> {
  if (w.child.exitCode !== null || w.child.signalCode !== null) return;
  w.child.kill("SIGTERM");
  await w.exited;
}

/** What a multi-process delivery test works with; filled in by the `beforeAll` of {@link useProcessRig}. */
export interface ProcessRig {
  /** A delivery service in this process, for enqueueing and counts. */
  producer: BullDeliveryService;
  /** A plain connection to read what the worker processes recorded. */
  rec: Redis;
  /** Worker processes, stopped after the tests (push the ones a test spawns). */
  readonly workers: WorkerProc[];
  /** With `cluster: true`: the private local Redis Cluster the delivery service runs on. */
  cluster?: RedisCluster;
  /** The cluster's seed nodes for a worker's config (`undefined` on the single Redis). */
  readonly seeds: readonly string[] | undefined;
}

/**
 * The scaffolding of a multi-process delivery test: registers beforeAll/afterAll that make the
 * producer and the reading connection (and spawn `spawn.count` workers when given), then stop the
 * workers, close everything and delete the test's keys. With `cluster: true` the delivery service
 * (producer and workers) runs on a private local Redis Cluster started for the file; what the
 * workers record stays on the shared Redis.
 */
export function useProcessRig(o: { prefix: string; service: Partial<DeliveryServiceOptions>; spawn?: { cfg: WorkerProcessConfig; count: number }; cluster?: boolean }): ProcessRig {
  const rig = {
    workers: [] as WorkerProc[],
    get seeds() { return rig.cluster?.seeds; },
  } as unknown as ProcessRig;
  beforeAll(async () => {
    rig.rec = new Redis(SHARED_REDIS);
    // everysec: six nodes fsyncing every write on one shared disk measure the disk, not Parley
    // (100 msg/s, 8 partitions: p99 4.6 s with `always`, 139 ms with `everysec`; docs/operations.md).
    // These tests kill workers, not Redis; the Redis crash tests keep `always`.
    if (o.cluster) rig.cluster = await RedisCluster.start({ appendfsync: "everysec" });
    rig.producer = await createDeliveryService({ networks: [NET], prefix: o.prefix, redisUrl: SHARED_REDIS, cluster: rig.seeds, ...o.service });
    if (o.spawn) rig.workers.push(...(await Promise.all(Array.from({ length: o.spawn.count }, () => spawnWorker({ ...o.spawn!.cfg, cluster: rig.seeds })))));
  });
  afterAll(async () => {
    await Promise.all(rig.workers.map(stopWorker));
    await rig.producer?.close();
    await rig.cluster?.destroy();
    await cleanup(o.prefix);
    rig.rec?.disconnect();
  });
  return rig;
}
