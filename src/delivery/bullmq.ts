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
 * 2. `RedisQueueBackend.client` and `.promote`: the queue's own connection (with BullMQ's scripts
 *    defined on it) and promotion of one delayed job by id.
 * 3. ioredis' `scriptsSet` (private): the Lua sources defined on a connection, to load them again
 *    when Redis answers NOSCRIPT inside a MULTI (ioredis cannot fall back to EVAL there).
 * 4. The reason BullMQ's stalled-job check gives a job it fails (a Lua string, not an error class).
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

/** Move one delayed job to waiting now; rejects when the job is not delayed (any more). */
export async function promoteJob(queue: Queue, jobId: string): Promise<void> {
  await queue.getBackend().promote(jobId);
}

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
