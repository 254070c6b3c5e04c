/** Options of the BullMQ delivery service, with their defaults (docs/operations.md). */
import type { RedisClient } from "../store/redis.js";
import type { Logger } from "../log/logger.js";
import type { NetworkId } from "../model/address.js";
import { DEFAULT_RETRY, type RetryPolicy } from "./backoff.js";
import type { DeliveryMetrics } from "./metrics.js";
import type { JobKind } from "./types.js";

/** How the worker processes of a network divide its queues (see `DeliveryServiceOptions.queueSharing`). */
export type QueueSharing = "leased" | "every-process";

export interface DeliveryServiceOptions {
  /** The networks that have queues (one queue per kind and network). */
  readonly networks: readonly NetworkId[];
  /** Key prefix for BullMQ's keys and ours (default `parley`). */
  readonly prefix?: string;
  /** Redis URL for the connections the service makes itself. */
  readonly redisUrl?: string;
  /** Redis Cluster seed nodes (`host:port`): the service's own connections are cluster clients. */
  readonly cluster?: readonly string[];
  /**
   * Partitions per (kind, network) queue (default 1 on one Redis, 8 on a cluster): conversations are
   * spread over them by hash, and on a cluster the partitions spread over the masters (names.ts).
   */
  readonly partitions?: number;
  /** Fail-fast connection for enqueue/admin (see src/store/redis.ts); made from `redisUrl` if absent. */
  readonly producer?: RedisClient;
  /** Patient connection for workers; made from `redisUrl` if absent. */
  readonly worker?: RedisClient;
  /** Jobs run at once per (kind, network) in this process, over all its partitions (default 32; per kind allowed). */
  readonly concurrency?: number | Partial<Record<JobKind, number>>;
  readonly retry?: Partial<RetryPolicy>;
  /** Wait after a rate-limited answer without a retry-after (default 1000 ms). */
  readonly defaultRateLimitMs?: number;
  /** How long "sent" and "failure reported" markers live (default 7 days). */
  readonly markerTtlSeconds?: number;
  /** Safety-net timeout of a parked (out-of-turn) job, ms (default 5000), doubling per park up to parkMaxMs (default 60000). */
  readonly parkMs?: number;
  readonly parkMaxMs?: number;
  /**
   * BullMQ lock duration / stalled check interval / stalls allowed (defaults 3 s / 1 s / 3): a job
   * left active by a dead process runs again within lockDurationMs + stalledIntervalMs (< 5 s), or
   * sooner when its process's ownership lease lapses (ownership.ts).
   */
  readonly lockDurationMs?: number;
  readonly stalledIntervalMs?: number;
  readonly maxStalledCount?: number;
  /**
   * Lease of a worker process on its share of a network's queues (default 2000 ms, renewed every
   * quarter of it; ownership.ts): a dead process's queues are taken over within ~1.25 × this.
   */
  readonly ownershipLeaseMs?: number;
  /**
   * `leased` (default): the worker processes of a network share its queues, each queue served by
   * one process at a time (ownership.ts). `every-process`: every process serves every queue — one
   * queue's jobs spread over all processes, at the cost of per-process CPU growing with their
   * number (issue 14); order holds either way (order.ts).
   */
  readonly queueSharing?: QueueSharing;
  /** How long failed jobs stay for the admin (default 30 days). */
  readonly failedRetentionSeconds?: number;
  /** How long close() waits for running jobs (default 1.5 s, so a SIGTERM exits within 2 s). */
  readonly closeTimeoutMs?: number;
  /**
   * Back-pressure: a conversation with this many jobs waiting in line refuses new ones with
   * PARLEY_UNAVAILABLE (the source's "try later") until its line is shorter (default 10,000).
   */
  readonly maxConversationBacklog?: number;
  /** Producer command timeout, ms (default 500): the bound on how long enqueue can take to fail. */
  readonly commandTimeoutMs?: number;
  /**
   * Most jobs stored in one MULTI (default 100). A larger enqueue is stored as several MULTIs, one
   * after another in call order, so each answers well within the producer's command timeout even
   * on a loaded machine (~65 µs of Redis CPU per job, many times that under load: 1,000 jobs in one
   * MULTI took over 500 ms at load 18–21), while a Redis that does not answer is still noticed
   * within one timeout.
   */
  readonly maxJobsPerTransaction?: number;
  readonly log?: Logger;
  readonly metrics?: DeliveryMetrics;
}

export interface ResolvedOptions {
  readonly networks: readonly NetworkId[];
  readonly prefix: string;
  readonly partitions: number;
  /** Concurrency of one partition's worker. */
  readonly concurrency: (kind: JobKind) => number;
  readonly retry: RetryPolicy;
  readonly defaultRateLimitMs: number;
  readonly markerTtlSeconds: number;
  readonly parkMs: number;
  readonly parkMaxMs: number;
  readonly lockDurationMs: number;
  readonly stalledIntervalMs: number;
  readonly maxStalledCount: number;
  readonly ownershipLeaseMs: number;
  readonly queueSharing: QueueSharing;
  readonly failedRetentionSeconds: number;
  readonly closeTimeoutMs: number;
  readonly maxConversationBacklog: number;
  readonly maxJobsPerTransaction: number;
}

export function resolveOptions(o: DeliveryServiceOptions): ResolvedOptions {
  if (o.networks.length === 0) throw new Error("the delivery service needs at least one network");
  const c = o.concurrency;
  const retry = { ...DEFAULT_RETRY, ...o.retry };
  const partitions = o.partitions ?? (o.cluster?.length ? 8 : 1);
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > 1024) throw new Error("partitions must be an integer from 1 to 1024");
  if (!(retry.attempts >= 1)) throw new Error("retry.attempts must be at least 1");
  if (o.maxConversationBacklog !== undefined && !(Number.isInteger(o.maxConversationBacklog) && o.maxConversationBacklog >= 1)) throw new Error("maxConversationBacklog must be a positive integer");
  if (o.maxJobsPerTransaction !== undefined && !(Number.isInteger(o.maxJobsPerTransaction) && o.maxJobsPerTransaction >= 1)) throw new Error("maxJobsPerTransaction must be a positive integer");
  return {
    networks: o.networks,
    prefix: o.prefix ?? "parley",
    partitions,
    concurrency: (kind) => Math.max(1, Math.ceil((typeof c === "number" ? c : c?.[kind] ?? 32) / partitions)),
    retry,
    defaultRateLimitMs: o.defaultRateLimitMs ?? 1000,
    markerTtlSeconds: o.markerTtlSeconds ?? 7 * 24 * 3600,
    parkMs: o.parkMs ?? 5000,
    parkMaxMs: Math.max(o.parkMaxMs ?? 60_000, o.parkMs ?? 5000),
    lockDurationMs: o.lockDurationMs ?? 3_000,
    stalledIntervalMs: o.stalledIntervalMs ?? 1_000,
    maxStalledCount: o.maxStalledCount ?? 3,
    ownershipLeaseMs: o.ownershipLeaseMs ?? 2_000,
    queueSharing: o.queueSharing ?? "leased",
    failedRetentionSeconds: o.failedRetentionSeconds ?? 30 * 24 * 3600,
    closeTimeoutMs: o.closeTimeoutMs ?? 1_500,
    maxConversationBacklog: o.maxConversationBacklog ?? 10_000,
    maxJobsPerTransaction: o.maxJobsPerTransaction ?? 100,
  };
}
