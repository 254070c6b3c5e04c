/**
 * The BullMQ implementation of {@link DeliveryService} (DESIGN §3): the queues, and the two halves
 * that use them — enqueue.ts (the producer: group commit) and workers.ts (the worker lifecycle);
 * runner.ts is what a worker does with a job, order.ts per-conversation order, and bullmq.ts every
 * BullMQ internal Parley relies on.
 *
 * Connections: enqueue, counts and the admin calls use a fail-fast producer connection, so a
 * Redis that is down or refusing writes makes `enqueue` reject within `commandTimeoutMs` with
 * PARLEY_UNAVAILABLE and nothing is reported stored that is not. Workers use a patient connection.
 */
import { Queue } from "bullmq";
import { ParleyError } from "../errors/index.js";
import { silentLogger, type Logger } from "../log/logger.js";
import type { NetworkId } from "../model/address.js";
import { keyspace, type Keyspace } from "../store/keys.js";
import { createProducerClient, createWorkerClient, unavailable, waitForReady, type RedisClient } from "../store/redis.js";
import { GroupCommit } from "./enqueue.js";
import { dropFailed, listFailed, retryFailed, type FailedJobAdmin } from "./failed.js";
import { JOB_KINDS, partitionOf, queueLabel, queueName } from "./names.js";
import { resolveOptions, type DeliveryServiceOptions, type ResolvedOptions } from "./options.js";
import { defineOrderScripts } from "./order.js";
import { retryNow } from "./retry-now.js";
import type { JobData } from "./runner.js";
import type { DeliveryHandler, DeliveryJobSpec, DeliveryService, FailedJobInfo, JobKind } from "./types.js";
import type { DeliveryMetrics } from "./metrics.js";
import { within, WorkerPool } from "./workers.js";

export class BullDeliveryService implements DeliveryService {
  private readonly opts: ResolvedOptions;
  private readonly keys: Keyspace;
  private readonly log: Logger;
  private readonly metrics: DeliveryMetrics | undefined;
  private readonly ownConnections: RedisClient[] = [];
  /** Producer-side queues (fail-fast connection), by name. */
  private readonly queues = new Map<string, Queue<JobData>>();
  private readonly queueList: Array<{ name: string; kind: JobKind; network: NetworkId }> = [];
  private readonly commit: GroupCommit;
  private pool: WorkerPool | undefined;
  private closed = false;

  private constructor(private readonly o: DeliveryServiceOptions, private readonly producer: RedisClient) {
    this.opts = resolveOptions(o);
    this.keys = keyspace(this.opts.prefix);
    this.log = (o.log ?? silentLogger()).child({ module: "delivery" });
    this.metrics = o.metrics;
    this.commit = new GroupCommit({ producer, keys: this.keys, opts: this.opts, log: this.log, metrics: this.metrics, queueFor: (spec) => this.queueFor(spec) });
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
    const producer = o.producer ?? createProducerClient({ url: o.redisUrl, cluster: o.cluster, commandTimeoutMs: o.commandTimeoutMs, connectionName: "parley-delivery-producer" });
    const svc = new BullDeliveryService(o, producer);
    if (own) svc.ownConnections.push(producer);
    producer.on("error", svc.onConnError("producer"));
    await waitForReady(producer);
    defineOrderScripts(producer);
    for (const network of svc.opts.networks) {
      for (const kind of JOB_KINDS) {
        for (let partition = 0; partition < svc.opts.partitions; partition++) {
          const name = queueName(kind, network, partition);
          const q = new Queue<JobData>(name, { connection: producer, prefix: svc.opts.prefix });
          q.on("error", svc.onConnError(name));
          svc.queues.set(name, q);
          svc.queueList.push({ name, kind, network });
        }
      }
    }
    await Promise.all([...svc.queues.values()].map((q) => q.waitUntilReady()));
    svc.metrics?.bindCounts(() => svc.counts());
    return svc;
  }

  /** A conversation's partition by its key; an unordered job's by its own key. */
  private queueFor(spec: DeliveryJobSpec): Queue<JobData> {
    const partition = partitionOf(spec.conversation ?? spec.key, this.opts.partitions);
    const q = this.queues.get(queueName(spec.kind, spec.network, partition));
    if (!q) throw new ParleyError("PARLEY_INTERNAL", `no delivery queue for ${spec.kind} on network ${spec.network}`);
    return q;
  }

  /** Store jobs durably; see enqueue.ts for the group commit. */
  enqueue(specs: readonly DeliveryJobSpec[]): Promise<void> {
    if (this.closed) return Promise.reject(new ParleyError("PARLEY_UNAVAILABLE", "the delivery service is closed"));
    return this.commit.add(specs);
  }

  async startWorkers(handler: DeliveryHandler, active: (network: NetworkId) => boolean = () => true): Promise<void> {
    if (this.pool) throw new Error("workers already started");
    const redis = this.o.worker ?? createWorkerClient({ url: this.o.redisUrl, cluster: this.o.cluster, connectionName: "parley-delivery-worker" });
    if (!this.o.worker) this.ownConnections.push(redis);
    redis.on("error", this.onConnError("worker"));
    this.pool = new WorkerPool({ keys: this.keys, opts: this.opts, log: this.log, metrics: this.metrics, queues: this.queueList, onConnError: this.onConnError }, redis);
    await this.pool.start(handler);
    for (const network of this.pool.networks) await this.setLocalActive(network, active(network));
  }

  async setLocalActive(network: NetworkId, active: boolean): Promise<void> {
    await this.pool?.setLocalActive(network, active);
  }

  private networkQueues(network: NetworkId): Queue<JobData>[] {
    const qs = this.queueList.filter((q) => q.network === network).map((q) => this.queues.get(q.name)!);
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

  async retryNow(network: NetworkId): Promise<number> {
    let promoted: number;
    try { promoted = await retryNow(this.networkQueues(network)); } catch (e) { throw unavailable(e, "the early retry"); }
    this.log.info({ network, promoted }, "peer answers again: retrying now what waited on a backoff");
    return promoted;
  }

  async counts(): Promise<Record<string, Record<string, number>>> {
    const out: Record<string, Record<string, number>> = {};
    try {
      await Promise.all([...this.queues].map(async ([name, q]) => {
        const counts = await q.getJobCounts("waiting", "delayed", "active", "failed", "prioritized");
        const sum = (out[queueLabel(name)] ??= {});
        for (const [state, n] of Object.entries(counts)) sum[state] = (sum[state] ?? 0) + n;
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
   * Stop taking jobs and let running ones finish (up to `closeTimeoutMs`; 1 s when Redis is down, as
   * a running job cannot be recorded as finished then anyway and will be re-run after its lock
   * expires). Enqueue keeps working: an XMPP link still up hands over what it already read.
   */
  stopWorkers(): Promise<void> {
    this.workersStopped ??= this.drain();
    return this.workersStopped;
  }

  private workersStopped: Promise<void> | undefined;

  private async drain(): Promise<void> {
    const pool = this.pool;
    if (pool && !(await pool.closeGracefully())) {
      this.log.warn({ redis: pool.redis.status }, "delivery workers did not finish in time; closing anyway");
      if (this.ownConnections.includes(pool.redis)) pool.redis.disconnect();
      await pool.closeForcibly();
    }
  }

  /** Stop the workers (if `stopWorkers` did not), then close the connections this service made. Never hangs on a dead Redis. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const pool = this.pool;
    await this.stopWorkers();
    await pool?.closeQueues();
    await within(Promise.all([...this.queues.values()].map((q) => q.close())), 1000);
    await Promise.all(this.ownConnections.map(async (r) => {
      if (r.status !== "ready" || !(await within(r.quit(), 1000))) r.disconnect();
    }));
  }

  /** The patient connection workers use (for tests and the gateway's readiness). */
  get workerConnection(): RedisClient | undefined { return this.pool?.redis; }
}

export function createDeliveryService(o: DeliveryServiceOptions): Promise<BullDeliveryService> {
  return BullDeliveryService.create(o);
}
