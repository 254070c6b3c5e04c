/**
 * Redis connections for Parley (DESIGN §3 "ack after durability", §6 scale).
 *
 * Two kinds, never mixed:
 * - **producer** connections (accept path, enqueue, dedupe): fail fast. No offline queue, a short
 *   command timeout, no resend of half-sent commands after a reconnect, so a caller learns within
 *   well under a second that Redis is down or refusing writes, and answers its source "try later".
 * - **worker** connections (BullMQ workers, the delivery worker's own scripts): patient. They wait
 *   through an outage (`maxRetriesPerRequest: null`, as BullMQ requires) and resume by themselves.
 */
import { Cluster, Redis, type ChainableCommander, type ClusterOptions, type Command, type RedisOptions } from "ioredis";
import { ParleyError } from "../errors/index.js";
import { errorMessage } from "../errors/message.js";

/** One Redis, or a Redis Cluster (`redis.cluster` in the config). */
export type RedisClient = Redis | Cluster;

export interface RedisConnectionOptions {
  /** `redis://host:port/db` (default `redis://127.0.0.1:6379`). */
  readonly url?: string;
  /** Seed nodes of a Redis Cluster (`host:port`); when given, `url` only lends its password. */
  readonly cluster?: readonly string[];
  /** Producer command timeout in ms (default 500). */
  readonly commandTimeoutMs?: number;
  readonly connectionName?: string;
}

const DEFAULT_URL = "redis://127.0.0.1:6379";

/** Reconnect with exponential backoff and jitter, capped at 2 s (STYLE habit 10). */
function reconnectDelay(times: number): number {
  const base = Math.min(2000, 50 * 2 ** Math.min(times, 6));
  return Math.round(base / 2 + Math.random() * (base / 2));
}

/**
 * A producer's command timeout that a busy event loop does not trip. ioredis' own `commandTimeout`
 * is checked in the timers phase, before the poll phase reads the replies that arrived meanwhile:
 * a process whose event loop was held up (or which the kernel did not run) for longer than the
 * timeout fails commands Redis answered in time — what a loaded machine showed as "Command timed
 * out" on a healthy Redis (bench:delivery at load ~20). Here the timer only arms a check that runs
 * after the next poll phase (setImmediate): a reply already received settles the command first.
 * A Redis that does not answer is still noticed after the timeout. Relies on ioredis sending every
 * command, those of a pipeline or MULTI included, through the client's `sendCommand`
 * (test/integration/store/producer-timeout.test.ts, delivery/large-enqueue.test.ts).
 */
function withLagTolerantTimeout<T extends RedisClient>(client: T, ms: number): T {
  const armed = new WeakSet<Command>();
  const send = client.sendCommand.bind(client) as (command: Command, ...rest: unknown[]) => unknown;
  const timed = (command: Command, ...rest: unknown[]): unknown => {
    if (!armed.has(command) && !command.isSettled) {
      armed.add(command);
      const timer = setTimeout(() => setImmediate(() => { if (!command.isSettled) command.reject(new Error("Command timed out")); }), ms);
      const clear = () => clearTimeout(timer);
      command.promise.then(clear, clear);
    }
    return send(command, ...rest);
  };
  (client as unknown as { sendCommand: typeof timed }).sendCommand = timed;
  return client;
}

/** A fail-fast connection for producers (enqueue, inbound dedupe). */
export function createProducerConnection(opts: RedisConnectionOptions = {}): Redis {
  const options: RedisOptions = {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    retryStrategy: reconnectDelay,
    connectionName: opts.connectionName ?? "parley-producer",
  };
  return withLagTolerantTimeout(new Redis(opts.url ?? DEFAULT_URL, options), opts.commandTimeoutMs ?? 500);
}

/** A patient connection for workers: waits through outages, resumes by itself. */
export function createWorkerConnection(opts: RedisConnectionOptions = {}): Redis {
  return new Redis(opts.url ?? DEFAULT_URL, {
    maxRetriesPerRequest: null,
    retryStrategy: reconnectDelay,
    connectionName: opts.connectionName ?? "parley-worker",
  });
}

/** A cluster client over `seeds` whose node connections use `node` options. */
function clusterClient(seeds: readonly string[], url: string | undefined, node: RedisOptions, cluster: ClusterOptions = {}): Cluster {
  const password = url ? decodeURIComponent(new URL(url).password) || undefined : undefined;
  const nodes = seeds.map((s) => {
    const i = s.lastIndexOf(":");
    return { host: s.slice(0, i), port: Number(s.slice(i + 1)) };
  });
  return new Cluster(nodes, { clusterRetryStrategy: reconnectDelay, ...cluster, redisOptions: { ...node, ...(password ? { password } : {}) } });
}

/** Fail-fast producer client: a Cluster when `opts.cluster` names seed nodes, else one Redis. */
export function createProducerClient(opts: RedisConnectionOptions = {}): RedisClient {
  if (!opts.cluster?.length) return createProducerConnection(opts);
  return withLagTolerantTimeout(clusterClient(opts.cluster, opts.url, {
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    connectionName: opts.connectionName ?? "parley-producer",
  }, { enableOfflineQueue: false }), opts.commandTimeoutMs ?? 500);
}

/** Patient worker client: a Cluster when `opts.cluster` names seed nodes, else one Redis. */
export function createWorkerClient(opts: RedisConnectionOptions = {}): RedisClient {
  if (!opts.cluster?.length) return createWorkerConnection(opts);
  return clusterClient(opts.cluster, opts.url, { maxRetriesPerRequest: null, connectionName: opts.connectionName ?? "parley-worker" });
}

/** Resolve once `redis` is ready (or reject after `timeoutMs`). */
export async function waitForReady(redis: RedisClient, timeoutMs = 5000): Promise<void> {
  if (redis.status === "ready") return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { cleanup(); reject(new ParleyError("PARLEY_UNAVAILABLE", `Redis not ready after ${timeoutMs} ms`)); }, timeoutMs);
    const onReady = () => { cleanup(); resolve(); };
    const cleanup = () => { clearTimeout(timer); redis.off("ready", onReady); };
    redis.on("ready", onReady);
  });
}

/** Map a Redis failure (down, timeout, OOM, READONLY) to PARLEY_UNAVAILABLE, keeping the cause. */
export function unavailable(e: unknown, what: string): ParleyError {
  if (e instanceof ParleyError) return e;
  const detail = errorMessage(e);
  return new ParleyError("PARLEY_UNAVAILABLE", `Redis refused ${what}: ${detail}`, {}, { cause: e });
}

/** Commands on keys of one hash slot, added to a MULTI. */
export type SlotGroup = (multi: ChainableCommander) => unknown;

/**
 * Run `groups` atomically where Redis can: one MULTI on one Redis; on a Redis Cluster (where a
 * MULTI may touch one slot only) one MULTI per group, in the order given — callers put first the
 * group whose write makes the rest reachable, and every group is idempotent, so a crash between
 * two is repaired by the caller's retry.
 */
export async function transact(redis: RedisClient, groups: readonly SlotGroup[]): Promise<void> {
  if (!(redis instanceof Cluster)) {
    const multi = redis.multi();
    for (const g of groups) g(multi);
    await failed(await multi.exec());
    return;
  }
  for (const g of groups) {
    const multi = redis.multi();
    g(multi);
    await failed(await multi.exec());
  }
}

async function failed(results: [Error | null, unknown][] | null): Promise<void> {
  if (results === null) throw new Error("transaction aborted");
  const e = results.find(([err]) => err !== null)?.[0];
  if (e) throw e;
}

/** Every master of a cluster, or the one Redis (for SCAN-like walks and script loads). */
export function mastersOf(redis: RedisClient): Redis[] {
  return redis instanceof Cluster ? redis.nodes("master") : [redis];
}
