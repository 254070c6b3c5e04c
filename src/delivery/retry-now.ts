/**
 * Retry now, not at the next backoff step (issue 10, stalls): a peer that was unreachable answers
 * again, so the jobs that failed against it and now sit out a backoff delay (1 s, 2 s, … up to
 * `retry.capMs`) are moved to waiting at once. Without this a 30 s outage of a homeserver held its
 * conversations back for up to a minute more, waiting on the 32 s step.
 *
 * Only jobs that already failed (`attemptsMade > 0`) are promoted. A job parked behind its
 * predecessor has made no attempt and stays parked; a job that failed once and was parked later is
 * promoted too, which costs it one BEGIN that parks it again — order is kept by order.ts either way.
 */
import type { Job, Queue } from "bullmq";
import type { JobData } from "./runner.js";

const PAGE = 200;
/** Per queue and call: a bound on the work of one recovery (the rest keeps its backoff). */
export const RETRY_NOW_CAP = 5_000;

/** Promote the retrying jobs of `queues`; resolves with how many were promoted. */
export async function retryNow(queues: readonly Queue<JobData>[], cap = RETRY_NOW_CAP): Promise<number> {
  const counts = await Promise.all(queues.map((q) => retryNowIn(q, cap)));
  return counts.reduce((a, b) => a + b, 0);
}

async function retryNowIn(queue: Queue<JobData>, cap: number): Promise<number> {
  const retrying: Job<JobData>[] = [];
  // Read first, promote after: promoting while paging would shift the pages under the reader.
  for (let start = 0; start < cap; start += PAGE) {
    const page = (await queue.getDelayed(start, Math.min(start + PAGE, cap) - 1)) as Job<JobData>[];
    for (const job of page) if (job && job.attemptsMade > 0) retrying.push(job);
    if (page.length < PAGE) break;
  }
  let promoted = 0;
  for (const job of retrying) {
    // A job may have left the delayed set meanwhile (its delay ran out, or another process promoted it).
    if (await job.promote().then(() => true, () => false)) promoted++;
  }
  return promoted;
}
