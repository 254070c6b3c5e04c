/**
 * Dead-letter handling (DESIGN §3 "job kept for the admin"; RFC 2779 5.4.1): failed jobs stay in
 * their queue's failed set until an admin retries or drops them. Ids shown to the admin are
 * `<queue>/<jobId>` so one listing covers every queue.
 *
 * A retried job has left its conversation's line (its failure handed the turn on), so it runs as
 * soon as a worker takes it, not in its old place: the admin's retry is deliberately out of band.
 */
import { Job, type Queue } from "bullmq";
import { unavailable, type RedisClient } from "../store/redis.js";
import type { Keyspace } from "../store/keys.js";
import { deliveryKeys, type JobData } from "./runner.js";
import type { FailedJobInfo } from "./types.js";

export interface FailedJobAdmin {
  readonly queues: ReadonlyMap<string, Queue<JobData>>;
  readonly keys: Keyspace;
  readonly redis: RedisClient;
}

function info(queue: string, job: Job<JobData>): FailedJobInfo {
  return {
    id: `${queue}/${job.id}`,
    kind: job.data.kind,
    network: job.data.network,
    key: job.data.key,
    attempts: job.attemptsMade,
    failedReason: job.failedReason,
    failedAt: job.finishedOn,
  };
}

export async function listFailed(a: FailedJobAdmin, limit: number): Promise<readonly FailedJobInfo[]> {
  try {
    const per = await Promise.all([...a.queues].map(async ([name, q]) => (await q.getFailed(0, limit - 1)).map((j) => info(name, j))));
    return per.flat().sort((x, y) => (y.failedAt ?? 0) - (x.failedAt ?? 0)).slice(0, limit);
  } catch (e) { throw unavailable(e, "the failed-job listing"); }
}

async function failedJob(a: FailedJobAdmin, id: string): Promise<Job<JobData> | undefined> {
  const slash = id.indexOf("/");
  if (slash < 0) return undefined;
  const q = a.queues.get(id.slice(0, slash));
  if (!q) return undefined;
  const job = await Job.fromId<JobData>(q, id.slice(slash + 1));
  if (!job || !(await job.isFailed())) return undefined;
  return job;
}

/** Put a failed job back to waiting with a fresh retry budget; its failure may be reported again. */
export async function retryFailed(a: FailedJobAdmin, id: string): Promise<boolean> {
  try {
    const job = await failedJob(a, id);
    if (!job) return false;
    await a.redis.del(deliveryKeys(a.keys, job.queueName, job.id!, job.data.conversation).reported);
    await job.retry("failed", { resetAttemptsMade: true, resetAttemptsStarted: true });
    return true;
  } catch (e) { throw unavailable(e, "the retry"); }
}

export async function dropFailed(a: FailedJobAdmin, id: string): Promise<boolean> {
  try {
    const job = await failedJob(a, id);
    if (!job) return false;
    await job.remove();
    return true;
  } catch (e) { throw unavailable(e, "the drop"); }
}
