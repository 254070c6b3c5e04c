/**
 * The BullMQ implementation of {@link DeliveryService} (DESIGN §3). See runner.ts for what a worker
 * does with a job and order.ts for per-conversation order.
 *
 * Connections: enqueue, counts and the admin calls use a fail-fast producer connection, so a
 * Redis that is down or refusing writes makes `enqueue` reject within `commandTimeoutMs` with
 * PARLEY_UNAVAILABLE and nothing is reported stored that is not. Workers use a patient connection
 * (`maxRetriesPerRequest: null`) and resume by themselves when Redis returns; jobs left active by
 * a dead process come back through BullMQ's stalled check (`lockDurationMs`, `stalledIntervalMs`).
 */
import { Job, Queue, Worker, type JobsOptions } from "bullmq";
import type { ChainableCommander, Redis } from "ioredis";
import { DeliveryError } from "../adapter/contract.js";
import { ParleyError } from "../errors/index.js";
import { silentLogger, type Logger } from "../log/logger.js";
import type { NetworkId } from "../model/address.js";
import { keyspace, type Keyspace } from "../store/keys.js";
import { createProducerConnection, createWorkerConnection, unavailable, waitForReady } from "../store/redis.js";
import { backoffDelay } from "./backoff.js";
import { dropFailed, listFailed, retryFailed, type FailedJobAdmin } from "./failed.js";
import { JOB_KINDS, jobIdForKey, queueName } from "./names.js";
import { resolveOptions, type DeliveryServiceOptions, type ResolvedOptions } from "./options.js";
import { defineOrderScripts, registerInOrder } from "./order.js";
import { deliveryKeys, JobRunner, type JobData } from "./runner.js";
import type { DeliveryHandler, DeliveryJobSpec, DeliveryService, FailedJobInfo } from "./types.js";
import type { DeliveryMetrics } from "./metrics.js";

const STALLED_OUT = "job stalled more than allowable limit";

export class BullDeliveryService implements DeliveryService {
  private readonly opts: ResolvedOptions;
  private readonly keys: Keyspace;
  private readonly log: Logger;
  private readonly metrics: DeliveryMetrics | undefined;
  private readonly ownConnections: Redis[] = [];
  /** Producer-side queues (fail-fast connection), by name. */
  private readonly queues = new Map<string, Queue<JobData>>();
  /** Worker-side queues (patient connection), by name: promote and rate limit from workers. */
  private readonly workerQueues = new Map<string, Queue<JobData>>();
  private readonly workers: Worker<JobData>[] = [];
  private readonly workersByNetwork = new Map<NetworkId, Worker<JobData>[]>();
  private readonly runningWorkers = new Set<Worker<JobData>>();
  private workerRedis: Redis | undefined;
  private closed = false;

  private constructor(private readonly o: DeliveryServiceOptions, private readonly producer: Redis) {
    this.opts = resolveOptions(o);
    this.keys = keyspace(this.opts.prefix);
    this.log = (o.log ?? silentLogger()).child({ module: "delivery" });
    this.metrics = o.metrics;
  }

  /**
   * Connection errors repeat on every reconnect attempt during an outage: log the first, then at
   * most one every 10 s, so an outage is visible without flooding the log.
   */
  private lastConnError = 0;
  private readonly onConnError = (source: string) => (err: Error) => {
    const now = Date.now();
    if (now - this.lastConnError < 10_000) return;
    this.lastConnError = now;
    this.log.warn({ source, err: err.message }, "Redis connection error (delivery)");
  };

  /** Connect and make the queues; resolves once the producer connection is ready. */
  static async create(o: DeliveryServiceOptions): Promise<BullDeliveryService> {
    const own = o.producer === undefined;
    const producer = o.producer ?? createProducerConnection({ url: o.redisUrl, commandTimeoutMs: o.commandTimeoutMs, connectionName: "parley-delivery-producer" });
    const svc = new BullDeliveryService(o, producer);
    if (own) svc.ownConnections.push(producer);
    producer.on("error", svc.onConnError("producer"));
    await waitForReady(producer);
    defineOrderScripts(producer);
    for (const network of svc.opts.networks) {
      for (const kind of JOB_KINDS) {
        const name = queueName(kind, network);
        const q = new Queue<JobData>(name, { connection: producer, prefix: svc.opts.prefix });
        q.on("error", svc.onConnError(name));
        svc.queues.set(name, q);
      }
    }
    await Promise.all([...svc.queues.values()].map((q) => q.waitUntilReady()));
    svc.metrics?.bindCounts(() => svc.counts());
    return svc;
  }

  private queueFor(spec: DeliveryJobSpec): Queue<JobData> {
    const q = this.queues.get(queueName(spec.kind, spec.network));
    if (!q) throw new ParleyError("PARLEY_INTERNAL", `no delivery queue for ${spec.kind} on network ${spec.network}`);
    return q;
  }

  private jobOptions(spec: DeliveryJobSpec): JobsOptions {
    const base: JobsOptions = {
      attempts: this.opts.retry.attempts,
      backoff: { type: "parley" },
      removeOnComplete: true,
      removeOnFail: { age: this.opts.failedRetentionSeconds },
    };
    if (spec.coalesce) return { ...base, deduplication: { id: jobIdForKey(spec.key), keepLastIfActive: true } };
    return { ...base, jobId: jobIdForKey(spec.key) };
  }

  /**
   * One MULTI/EXEC for the whole batch: each ordered job's place in its conversation's line and
   * the job itself are stored together or not at all (order.ts). Resolves only after EXEC.
   */
  /**
   * Group commit: enqueue calls made in the same turn of the event loop (e.g. 32 stanzas being
   * accepted at once) are stored in one MULTI, in call order, so per-conversation order is the
   * order of the calls. Each caller resolves only once its jobs are in Redis; if the transaction
   * fails, every caller in it is told PARLEY_UNAVAILABLE.
   */
  enqueue(specs: readonly DeliveryJobSpec[]): Promise<void> {
    if (this.closed) return Promise.reject(new ParleyError("PARLEY_UNAVAILABLE", "the delivery service is closed"));
    if (specs.length === 0) return Promise.resolve();
    try {
      for (const spec of specs) this.checkSpec(spec);
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    return new Promise<void>((resolve, reject) => {
      if (!this.batch) {
        this.batch = { specs: [], waiters: [] };
        setImmediate(() => void this.flushBatch());
      }
      this.batch.specs.push(...specs);
      this.batch.waiters.push({ resolve, reject });
    });
  }

  private batch: { specs: DeliveryJobSpec[]; waiters: Array<{ resolve: () => void; reject: (e: unknown) => void }> } | undefined;

  private async flushBatch(): Promise<void> {
    const batch = this.batch;
    this.batch = undefined;
    if (!batch) return;
    try {
      await this.enqueueStored(batch.specs);
      for (const w of batch.waiters) w.resolve();
    } catch (e) {
      for (const w of batch.waiters) w.reject(e);
    }
  }

  private async enqueueStored(specs: readonly DeliveryJobSpec[]): Promise<void> {
    try {
      await this.enqueueOnce(specs);
    } catch (e) {
      // Inside MULTI, ioredis cannot fall back from EVALSHA to EVAL when Redis lost its scripts
      // (SCRIPT FLUSH, or a first EVAL refused under OOM): load them all and try once more. The
      // retry is safe: what the failed transaction did store is recognised by key.
      if (!/NOSCRIPT/.test(String((e as Error).message))) throw e;
      await this.reloadScripts();
      await this.enqueueOnce(specs);
    }
  }

  /** A spec must name a network with queues; coalescing is for unordered jobs only. */
  private checkSpec(spec: DeliveryJobSpec): void {
    this.queueFor(spec);
    if (spec.coalesce && spec.conversation !== undefined) throw new ParleyError("PARLEY_INTERNAL", "coalesce is for unordered jobs only");
  }

  private async reloadScripts(): Promise<void> {
    const scripts = (this.producer as unknown as { scriptsSet?: Record<string, { lua: string }> }).scriptsSet ?? {};
    try {
      await Promise.all(Object.values(scripts).map((s) => this.producer.script("LOAD", s.lua)));
    } catch (e) { throw unavailable(e, "the script load"); }
    this.log.info({ scripts: Object.keys(scripts).length }, "reloaded Lua scripts after NOSCRIPT");
  }

  private async enqueueOnce(specs: readonly DeliveryJobSpec[]): Promise<void> {
    let multi: ChainableCommander;
    const pending: Promise<unknown>[] = [];
    try {
      const client = await this.queues.values().next().value!.getBackend().client;
      multi = client.multi() as unknown as ChainableCommander;
      for (const spec of specs) {
        const queue = this.queueFor(spec);
        const opts = this.jobOptions(spec);
        const data: JobData = { kind: spec.kind, network: spec.network, key: spec.key, conversation: spec.conversation ?? null, payload: spec.payload };
        if (spec.conversation !== undefined) {
          const k = deliveryKeys(this.keys, queue.name, opts.jobId!, spec.conversation);
          registerInOrder(multi, k.ord, queue.toKey(opts.jobId!), opts.jobId!);
        }
        const json = new Job<JobData>(queue, spec.kind, data, opts, opts.jobId).asJSON();
        pending.push(queue.getBackend().addJobToTransaction(multi as never, json, opts.jobId as string));
      }
    } catch (e) {
      throw unavailable(e, "the enqueue");
    }
    let results: [Error | null, unknown][] | null;
    try {
      results = await multi.exec();
      await Promise.all(pending);
    } catch (e) {
      throw unavailable(e, "the enqueue");
    }
    if (!results) throw new ParleyError("PARLEY_UNAVAILABLE", "Redis aborted the enqueue transaction");
    const failed = results.find(([err]) => err !== null);
    if (failed) throw unavailable(failed[0], "the enqueue");
  }

  async startWorkers(handler: DeliveryHandler, active: (network: NetworkId) => boolean = () => true): Promise<void> {
    if (this.workers.length > 0) throw new Error("workers already started");
    const redis = this.o.worker ?? createWorkerConnection({ url: this.o.redisUrl, connectionName: "parley-delivery-worker" });
    if (!this.o.worker) this.ownConnections.push(redis);
    redis.on("error", this.onConnError("worker"));
    this.workerRedis = redis;
    for (const name of this.queues.keys()) {
      const q = new Queue<JobData>(name, { connection: redis, prefix: this.opts.prefix });
      q.on("error", this.onConnError(name));
      this.workerQueues.set(name, q);
    }
    const runner = new JobRunner({ handler, redis, keys: this.keys, opts: this.opts, queues: this.workerQueues, log: this.log, metrics: this.metrics });
    const retry = this.opts.retry;
    for (const name of this.queues.keys()) {
      const kind = JOB_KINDS.find((k) => name.startsWith(`${k}-`))!;
      const worker = new Worker<JobData>(name, (job, token) => runner.process(job, token), {
        autorun: false,
        connection: redis,
        prefix: this.opts.prefix,
        concurrency: this.opts.concurrency(kind),
        lockDuration: this.opts.lockDurationMs,
        stalledInterval: this.opts.stalledIntervalMs,
        maxStalledCount: this.opts.maxStalledCount,
        runRetryDelay: 500,
        // A limiter that never limits by count, so that a rate-limited answer (queue.rateLimit)
        // holds the whole queue, in every process, for the destination's retry-after.
        limiter: { max: 1_000_000_000, duration: 1000 },
        settings: { backoffStrategy: (attemptsMade: number) => backoffDelay(attemptsMade, retry) },
      });
      worker.on("failed", (job, err) => {
        if (job && err.message === STALLED_OUT) {
          runner.finalise(job, new DeliveryError("transient", "unavailable", STALLED_OUT))
            .catch((e: unknown) => this.log.error({ err: e, jobId: job.id }, "finalising a stalled-out job failed"));
        }
      });
      worker.on("error", this.onConnError(`worker ${name}`));
      this.workers.push(worker);
      const network = this.networkOf(name);
      this.workersByNetwork.set(network, [...(this.workersByNetwork.get(network) ?? []), worker]);
    }
    await Promise.all(this.workers.map((w) => w.waitUntilReady()));
    for (const network of this.workersByNetwork.keys()) await this.setLocalActive(network, active(network));
  }

  private networkOf(queue: string): NetworkId {
    return this.opts.networks.find((n) => JOB_KINDS.some((k) => queueName(k, n) === queue))!;
  }

  /** A worker never run is started; a running one is paused (without waiting) or resumed. */
  async setLocalActive(network: NetworkId, active: boolean): Promise<void> {
    for (const worker of this.workersByNetwork.get(network) ?? []) {
      if (active && !this.runningWorkers.has(worker)) {
        this.runningWorkers.add(worker);
        worker.run().catch((e: unknown) => this.log.error({ err: e, queue: worker.name }, "delivery worker stopped"));
      } else if (active && worker.isPaused()) {
        await worker.resume();
      } else if (!active && this.runningWorkers.has(worker) && !worker.isPaused()) {
        await worker.pause(true);
      }
    }
    this.log.info({ network, active }, active ? "this process takes the network's deliveries" : "this process leaves the network's deliveries to others");
  }

  private networkQueues(network: NetworkId): Queue<JobData>[] {
    const qs = JOB_KINDS.map((k) => this.queues.get(queueName(k, network))).filter((q) => q !== undefined);
    if (qs.length === 0) throw new ParleyError("PARLEY_INTERNAL", `no delivery queues for network ${network}`);
    return qs;
  }

  async pause(network: NetworkId): Promise<void> {
    try { await Promise.all(this.networkQueues(network).map((q) => q.pause())); } catch (e) { throw unavailable(e, "the pause"); }
    this.log.info({ network }, "delivery paused");
  }

  async resume(network: NetworkId): Promise<void> {
    try { await Promise.all(this.networkQueues(network).map((q) => q.resume())); } catch (e) { throw unavailable(e, "the resume"); }
    this.log.info({ network }, "delivery resumed");
  }

  async counts(): Promise<Record<string, Record<string, number>>> {
    const out: Record<string, Record<string, number>> = {};
    try {
      await Promise.all([...this.queues].map(async ([name, q]) => {
        out[name] = await q.getJobCounts("waiting", "delayed", "active", "failed", "prioritized");
      }));
    } catch (e) { throw unavailable(e, "the counts"); }
    return out;
  }

  private get admin(): FailedJobAdmin {
    return { queues: this.queues, keys: this.keys, redis: this.producer };
  }

  listFailed(limit = 100): Promise<readonly FailedJobInfo[]> { return listFailed(this.admin, limit); }
  retryFailed(id: string): Promise<boolean> { return retryFailed(this.admin, id); }
  dropFailed(id: string): Promise<boolean> { return dropFailed(this.admin, id); }

  /**
   * Stop taking jobs, let running ones finish (up to `closeTimeoutMs`; 1 s when Redis is down, as a
   * running job cannot be recorded as finished then anyway and will be re-run after its lock
   * expires), then close the connections this service made. Never hangs on a dead Redis.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const graceful = await this.closeWorkersGracefully();
    if (!graceful) {
      this.log.warn({ redis: this.workerRedis?.status }, "delivery workers did not finish in time; closing anyway");
      for (const r of this.ownConnections) r.disconnect();
      await within(Promise.all(this.workers.map((w) => w.close(true))), 1000);
    }
    await within(Promise.all([...this.workerQueues.values(), ...this.queues.values()].map((q) => q.close())), 1000);
    await Promise.all(this.ownConnections.map(async (r) => {
      if (r.status !== "ready" || !(await within(r.quit(), 1000))) r.disconnect();
    }));
  }

  /** Wait for the workers to finish their jobs: up to closeTimeoutMs, or until Redis has been down 1 s. */
  private async closeWorkersGracefully(): Promise<boolean> {
    const closing = Promise.all(this.workers.map((w) => w.close()));
    const deadline = Date.now() + this.opts.closeTimeoutMs;
    let downSince: number | undefined;
    for (;;) {
      if (await within(closing, 250)) return true;
      const now = Date.now();
      downSince = (this.workerRedis ?? this.producer).status === "ready" ? undefined : (downSince ?? now);
      if (now > deadline || (downSince !== undefined && now - downSince >= 1000)) return false;
    }
  }

  /** The patient connection workers use (for tests and the gateway's readiness). */
  get workerConnection(): Redis | undefined { return this.workerRedis; }
}

export function createDeliveryService(o: DeliveryServiceOptions): Promise<BullDeliveryService> {
  return BullDeliveryService.create(o);
}

/** Whether `p` settled within `ms` (its rejection counts as settled; the timer never holds the process). */
async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), ms); timer.unref(); });
  try {
    return await Promise.race([p.then(() => true, () => true), timeout]);
  } finally { clearTimeout(timer); }
}
