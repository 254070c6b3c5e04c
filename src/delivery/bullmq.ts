/**
 * Every BullMQ and ioredis internal Parley relies on, in one place. Nothing else in Parley reaches
 * past BullMQ's public API (Queue, Worker, Job, DelayedError…) or ioredis' documented one.
 *
 * Proved with the versions in {@link PROVED_WITH}, which package.json pins exactly. Each internal
 * has its own test (test/integration/delivery/bullmq-internals.test.ts); after an upgrade, run it
 * first: a failing test there names the internal that moved.
 *
 * 1. `RedisQueueBackend.addJobToTransaction`: adds a job on a MULTI that Parley also uses, so a
 *    conversation's line and its job are stored together or not at all (order.ts). BullMQ keeps it
 *    public for its FlowProducer but outside its backend interface.
 * 2. `RedisQueueBackend.client`: the queue's own connection (with BullMQ's scripts defined on it).
 * 5. The key layout of a queue (`<prefix>:<queue>:delayed|wait|meta|active|events|marker|failed`,
 *    job hashes at `<prefix>:<queue>:<id>`, delayed scores `ms * 0x1000`, the marker set that wakes
 *    blocked workers) and what BullMQ's promote-9.lua and a delayed add do with it, which
 *    {@link PROMOTE_LUA} repeats inside Parley's own order scripts, so that storing a job parked,
 *    and handing a conversation's turn on and waking its next job, are each one atomic step
 *    (order.ts).
 * 3. ioredis' `scriptsSet` (private): the Lua sources defined on a connection, to load them again
 *    when Redis answers NOSCRIPT inside a MULTI (ioredis cannot fall back to EVAL there).
 * 4. The reason BullMQ's stalled-job check gives a job it fails (a Lua string, not an error class).
 * 6. A running job's lock, `<prefix>:<queue>:<id>:lock`, holds its worker's token
 *    `<worker.id>:<n>` (Worker.run), and BullMQ's stalled check (moveStalledJobsToWait-9.lua) moves
 *    a job listed in `<queue>:stalled` whose lock is gone back to wait, unless `<queue>:stalled-check`
 *    says a check ran less than `stalledInterval` ago: {@link releaseLocksOf}.
 */
import { Job, type JobsOptions, type Queue } from "bullmq";
import type { ChainableCommander } from "ioredis";
import type { RedisClient } from "../store/redis.js";
import { errorMessage } from "../errors/message.js";

export const PROVED_WITH = { bullmq: "6.7.0", ioredis: "6.0.0" } as const;

export type { RedisClient };

/** A MULTI opened on a queue's own connection (BullMQ's scripts are defined on it). */
export async function openTransaction(queue: Queue): Promise<ChainableCommander> {
  const client = await queue.getBackend().client;
  return client.multi() as unknown as ChainableCommander;
}

/**
 * Queue BullMQ's add of a job on `multi` (without `opts.jobId`, BullMQ numbers it). The returned
 * promise settles after EXEC (with the job id, or BullMQ's error); attach a handler before EXEC so
 * a failed add is never unhandled.
 */
export function addJobInTransaction<T>(multi: ChainableCommander, queue: Queue<T>, name: string, data: T, opts: JobsOptions): Promise<unknown> {
  const json = new Job<T>(queue, name, data, opts, opts.jobId).asJSON();
  return queue.getBackend().addJobToTransaction(multi as never, json, opts.jobId as string);
}

/**
 * Lua functions on a queue's keys. `promote(qp, id)` moves job `id` of the queue whose key prefix is `qp` (`queue.toKey("")`)
 * from the delayed set to the back of the wait list, as BullMQ 6.7's promote-9.lua does for a job
 * without priority (Parley sets none): the marker that wakes blocked workers unless the queue is
 * paused or at its global concurrency, the `waiting` event, `delay` reset. Returns 1, or 0 when
 * the job was not delayed. Every key is under `qp`, so on a cluster it is the queue's own slot.
 */
export const PROMOTE_LUA = `
local function promote(qp, id)
  if redis.call('ZREM', qp .. 'delayed', id) == 0 then return 0 end
  redis.call('LPUSH', qp .. 'wait', id)
  local meta = redis.call('HMGET', qp .. 'meta', 'paused', 'concurrency')
  local held = meta[1] or (meta[2] and redis.call('LLEN', qp .. 'active') >= tonumber(meta[2]))
  if not held then redis.call('ZADD', qp .. 'marker', 0, '0') end
  redis.call('XADD', qp .. 'events', '*', 'event', 'waiting', 'jobId', id, 'prev', 'delayed')
  redis.call('HSET', qp .. id, 'delay', 0)
  return 1
end
-- park(qp, id, ms): the job BullMQ's add just pushed to the wait list waits in the delayed set for
-- ms instead, as a delayed add leaves it (the marker's '1' member tells blocked workers when the
-- first delayed job is due). No event: Parley listens to none.
local function park(qp, id, ms)
  redis.call('LREM', qp .. 'wait', 1, id)
  local t = redis.call('TIME')
  local due = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ms)
  redis.call('ZADD', qp .. 'delayed', due * 0x1000, id)
  local first = redis.call('ZRANGE', qp .. 'delayed', 0, 0, 'WITHSCORES')
  if first[2] then redis.call('ZADD', qp .. 'marker', math.floor(tonumber(first[2]) / 0x1000), '1') end
end
`;

/** The Lua sources of the commands defined on a connection (ioredis' private `scriptsSet`). */
export function definedScripts(redis: RedisClient): readonly string[] {
  const set = (redis as unknown as { scriptsSet?: Record<string, { lua?: unknown }> }).scriptsSet ?? {};
  return Object.values(set).flatMap((s) => (typeof s.lua === "string" ? [s.lua] : []));
}

/** Redis' answer to an EVALSHA of a script it does not hold. */
export function isNoScript(e: unknown): boolean {
  return /NOSCRIPT/.test(errorMessage(e));
}

/** The failedReason BullMQ's stalled check (moveStalledJobsToWait.lua) gives a job it fails. */
export const STALLED_OUT = "job stalled more than allowable limit";

export function isStalledOut(err: Error): boolean {
  return err.message === STALLED_OUT;
}

/**
 * KEYS active, stalled, stalled-check; ARGV qp, worker ids. The active jobs whose lock one of the
 * workers holds lose it and are listed for the next stalled check, which is no longer held off.
 */
const RELEASE_LOCKS_LUA = `
local qp = ARGV[1]
local dead = {}
for i = 2, #ARGV do dead[ARGV[i]] = true end
local n = 0
for _, id in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  local token = redis.call('GET', qp .. id .. ':lock')
  local worker = token and string.match(token, '^(.*):%d+$')
  if worker and dead[worker] then
    redis.call('DEL', qp .. id .. ':lock')
    redis.call('SADD', KEYS[2], id)
    n = n + 1
  end
end
if n > 0 then redis.call('DEL', KEYS[3]) end
return n`;

/**
 * Give back the running jobs of workers known to be dead (their process's ownership lease lapsed:
 * ownership.ts) in the queue whose key prefix is `qp`: the queue's next stalled check (a worker
 * that starts serving it checks at once) moves them back to wait, instead of waiting for their
 * locks to expire (`lockDurationMs`). Returns how many.
 */
export async function releaseLocksOf(redis: RedisClient, qp: string, workerIds: readonly string[]): Promise<number> {
  if (workerIds.length === 0) return 0;
  return Number(await redis.eval(RELEASE_LOCKS_LUA, 3, `${qp}active`, `${qp}stalled`, `${qp}stalled-check`, qp, ...workerIds));
}
