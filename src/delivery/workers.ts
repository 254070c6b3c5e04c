/**
 * The worker side of delivery: BullMQ workers for every queue, their start, pause per network and
 * graceful close (STYLE habit 10). What a worker does with one job is runner.ts.
 *
 * Workers use a patient connection (`maxRetriesPerRequest: null`) and resume by themselves when
 * Redis returns; jobs left active by a dead process come back through BullMQ's stalled check
 * (`lockDurationMs`, `stalledIntervalMs`).
 *
 * A queue's worker runs in this process only while the process takes the network's deliveries
 * (`setLocalActive`, e.g. the XMPP link's lease) *and* owns the queue (ownership.ts: the worker
 * processes of a network share its queues); otherwise it is paused, or never started.
 */
import { Queue, Worker } from "bullmq";
import { DeliveryError } from "../adapter/contract.js";
import type { Logger } from "../log/logger.js";
import type { NetworkId } from "../model/address.js";
import type { Keyspace } from "../store/keys.js";
import { backoffDelay } from "./backoff.js";
import { isStalledOut, releaseLocksOf, STALLED_OUT, type RedisClient } from "./bullmq.js";
import type { DeliveryMetrics } from "./metrics.js";
import type { ResolvedOptions } from "./options.js";
import { PartitionOwnership } from "./ownership.js";
import { JobRunner, type JobData } from "./runner.js";
import type { DeliveryHandler, JobKind } from "./types.js";

export interface WorkerPoolDeps {
  readonly keys: Keyspace;
  readonly opts: ResolvedOptions;
  readonly log: Logger;
  readonly metrics: DeliveryMetrics | undefined;
  /** Every queue: its name, kind and network. */
  readonly queues: ReadonlyArray<{ readonly name: string; readonly kind: JobKind; readonly network: NetworkId }>;
  readonly onConnError: (source: string) => (err: Error) => void;
}

export class WorkerPool {
  /** Worker-side queues (patient connection), by name: promote and rate limit from workers. */
  readonly queues = new Map<string, Queue<JobData>>();
  private readonly workers: Worker<JobData>[] = [];
  /** Each network's workers, in queue order (the index ownership assigns by). */
  private readonly byNetwork = new Map<NetworkId, Worker<JobData>[]>();
  private readonly running = new Set<Worker<JobData>>();
  private readonly localActive = new Set<NetworkId>();
  private closing = false;
  private readonly ownership: PartitionOwnership;
  /** Start/pause/resume steps run one after another (a renewal may change ownership meanwhile). */
  private applying: Promise<void> = Promise.resolve();

  constructor(private readonly d: WorkerPoolDeps, readonly redis: RedisClient) {
    this.ownership = new PartitionOwnership({
      redis, keys: d.keys, leaseMs: d.opts.ownershipLeaseMs, leased: d.opts.queueSharing === "leased", log: d.log, onChange: (n) => void this.apply(n),
      workerIds: (n) => (this.byNetwork.get(n) ?? []).map((w) => w.id),
      onLapsed: async (n, ids) => { for (const { name } of this.d.queues.filter((q) => q.network === n)) await releaseLocksOf(redis, d.keys.key(name, ""), ids); },
    });
  }

  get started(): boolean { return this.workers.length > 0; }

  /** Make a worker per queue (not yet taking jobs: see {@link setLocalActive}). */
  async start(handler: DeliveryHandler): Promise<void> {
    const { opts, log } = this.d;
    for (const { name } of this.d.queues) {
      const q = new Queue<JobData>(name, { connection: this.redis, prefix: opts.prefix });
      q.on("error", this.d.onConnError(name));
      this.queues.set(name, q);
    }
    const runner = new JobRunner({ handler, redis: this.redis, keys: this.d.keys, opts, queues: this.queues, log, metrics: this.d.metrics });
    const retry = opts.retry;
    for (const { name, kind, network } of this.d.queues) {
      const worker = new Worker<JobData>(name, (job, token) => runner.process(job, token), {
        autorun: false,
        connection: this.redis,
        prefix: opts.prefix,
        concurrency: opts.concurrency(kind),
        lockDuration: opts.lockDurationMs,
        stalledInterval: opts.stalledIntervalMs,
        maxStalledCount: opts.maxStalledCount,
        runRetryDelay: 500,
        // A limiter that never limits by count, so that a rate-limited answer (queue.rateLimit)
        // holds the whole queue, in every process, for the destination's retry-after.
        limiter: { max: 1_000_000_000, duration: 1000 },
        settings: { backoffStrategy: (attemptsMade: number) => backoffDelay(attemptsMade, retry) },
      });
      worker.on("failed", (job, err) => {
        if (job && isStalledOut(err)) {
          runner.finalise(job, new DeliveryError("transient", "unavailable", STALLED_OUT))
            .catch((e: unknown) => log.error({ err: e, jobId: job.id }, "finalising a stalled-out job failed"));
        }
      });
      worker.on("error", this.d.onConnError(`worker ${name}`));
      this.workers.push(worker);
      this.byNetwork.set(network, [...(this.byNetwork.get(network) ?? []), worker]);
    }
    await Promise.all(this.workers.map((w) => w.waitUntilReady()));
  }

  get networks(): readonly NetworkId[] { return [...this.byNetwork.keys()]; }

  /** This process takes (or leaves to others) the network's deliveries: join or leave its owners, then apply. */
  async setLocalActive(network: NetworkId, active: boolean): Promise<void> {
    if (active) this.localActive.add(network); else this.localActive.delete(network);
    // Leaving takes effect at once, even with Redis down; joining first asks who else serves the
    // network, for a bounded time (until it answers, this process serves all: safe, see ownership.ts).
    const told = this.ownership.set(network, active);
    if (active) await within(told, 1000);
    await this.apply(network);
    this.d.log.info({ network, active }, active ? "this process takes the network's deliveries" : "this process leaves the network's deliveries to others");
  }

  /** Run the network's workers this process owns, pause the others (queued behind earlier steps). */
  private apply(network: NetworkId): Promise<void> {
    this.applying = this.applying.then(() => this.applyNow(network)).catch((e: unknown) => this.d.log.error({ err: e, network }, "applying delivery queue ownership failed"));
    return this.applying;
  }

  /** A worker never run is started; a running one is paused (without waiting) or resumed. */
  private async applyNow(network: NetworkId): Promise<void> {
    let owned = 0;
    for (const [index, worker] of (this.byNetwork.get(network) ?? []).entries()) {
      const serve = !this.closing && this.localActive.has(network) && this.ownership.owns(network, index);
      if (serve) owned++;
      if (serve && !this.running.has(worker)) {
        this.running.add(worker);
        worker.run().catch((e: unknown) => this.d.log.error({ err: e, queue: worker.name }, "delivery worker stopped"));
      } else if (serve && worker.isPaused()) {
        await worker.resume();
      } else if (!serve && this.running.has(worker) && !worker.isPaused()) {
        await worker.pause(true);
      }
    }
    this.d.metrics?.queuesServed?.set({ network }, owned);
  }

  /** Wait for the workers to finish their jobs: up to closeTimeoutMs, or until Redis has been down 1 s. */
  async closeGracefully(): Promise<boolean> {
    this.closing = true;
    await within(this.ownership.leaveAll(), 500); // the others take this process's queues at once
    const closing = Promise.all(this.workers.map((w) => w.close()));
    const deadline = Date.now() + this.d.opts.closeTimeoutMs;
    let downSince: number | undefined;
    for (;;) {
      if (await within(closing, 250)) return true;
      const now = Date.now();
      downSince = this.redis.status === "ready" ? undefined : (downSince ?? now);
      if (now > deadline || (downSince !== undefined && now - downSince >= 1000)) return false;
    }
  }

  /** After a graceful close failed: stop the workers without waiting for their jobs. */
  async closeForcibly(): Promise<void> {
    await within(Promise.all(this.workers.map((w) => w.close(true))), 1000);
  }

  async closeQueues(): Promise<void> {
    await within(Promise.all([...this.queues.values()].map((q) => q.close())), 1000);
  }
}

/** Whether `p` settled within `ms` (its rejection counts as settled; the timer never holds the process). */
export async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), ms); timer.unref(); });
  try {
    return await Promise.race([p.then(() => true, () => true), timeout]);
  } finally { clearTimeout(timer); }
}
