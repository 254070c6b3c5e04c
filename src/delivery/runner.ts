/**
 * What a delivery worker does with one job (DESIGN §3 "idempotent delivery", "failure classes",
 * "order"; RFC 2779 5.4.1, 5.4.2):
 *
 * 1. Skip it when its "sent" marker exists (a redelivered job is not sent twice).
 * 2. For an ordered job, run it only in its conversation's turn, else park it (see order.ts).
 * 3. Call the handler. On success set the marker and hand the conversation's turn on. A handler
 *    that only *wrote* the message on an ordered connection returns its pending confirmation: the
 *    turn passes on at once (order.ts, hand-on), the marker waits for the confirmation, and a failed
 *    confirmation is a failure like a throw (the job is back at the head of its line).
 *    **The crash window**: a process dying after the handler's send and before the marker is
 *    written (one Redis round trip) makes BullMQ run the job again after its lock expires, and the
 *    send happens twice. Each adapter narrows it further with the network's own idempotency key
 *    derived from the canonical id (Matrix txnId, XMPP origin-id, email Message-ID).
 * 4. Map failures (classified by `asDeliveryError`, src/adapter/classify.ts): transient → BullMQ retry with backoff;
 *    permanent or retries spent → `onFinalFailure` once, then UnrecoverableError (the job stays in
 *    the failed set for the admin); rate-limited → the queue pauses for the destination's
 *    retry-after and the job goes back to waiting without using up an attempt.
 */
import { DelayedError, UnrecoverableError, Worker, type Job, type Queue } from "bullmq";
import { asDeliveryError } from "../adapter/classify.js";
import { BehindUnconfirmed, type DeliveryError, type HandOn } from "../adapter/contract.js";
import type { Logger } from "../log/logger.js";
import type { NetworkId } from "../model/address.js";
import type { Keyspace } from "../store/keys.js";
import type { RedisClient } from "./bullmq.js";
import type { DeliveryMetrics } from "./metrics.js";
import type { ResolvedOptions } from "./options.js";
import { queueLabel } from "./names.js";
import { ConversationOrder } from "./order.js";
import type { DeliveryHandler, DeliveryJob, JobKind } from "./types.js";

/** What a BullMQ job carries. */
export interface JobData {
  readonly kind: JobKind;
  readonly network: NetworkId;
  readonly key: string;
  readonly conversation: string | null;
  readonly payload: unknown;
}

export interface RunnerDeps {
  readonly handler: DeliveryHandler;
  readonly redis: RedisClient;
  readonly keys: Keyspace;
  readonly opts: ResolvedOptions;
  /** Worker-side queue objects by name (patient connection): rate limit. */
  readonly queues: ReadonlyMap<string, Queue<JobData>>;
  readonly log: Logger;
  readonly metrics: DeliveryMetrics | undefined;
}

/** Own keys of the delivery layer for one job; `line` is its conversation's (order.ts), `qp` the queue's key prefix. */
export function deliveryKeys(keys: Keyspace, queue: string, jobId: string, conversation: string | null) {
  const conv = conversation ?? "";
  return {
    line: { ord: keys.key("dlv", "ord", queue, conv), park: keys.key("dlv", "park", queue, conv), hand: keys.key("dlv", "hand", queue, conv), qp: keys.key(queue, "") },
    sent: keys.key("dlv", "sent", queue, jobId),
    reported: keys.key("dlv", "ff", queue, jobId),
  };
}

export class JobRunner {
  private readonly order: ConversationOrder;
  constructor(private readonly d: RunnerDeps) {
    this.order = new ConversationOrder(d.redis);
  }

  /** The BullMQ processor. */
  async process(job: Job<JobData>, token: string | undefined): Promise<void> {
    const id = job.id!;
    const data = job.data;
    const ordered = data.conversation !== null;
    const k = deliveryKeys(this.d.keys, job.queueName, id, data.conversation);
    let handOn: HandOn | undefined;
    if (ordered) {
      const v = await this.order.begin(k.line, k.sent, id);
      if (v.verdict === "sent") return;
      if (v.verdict === "park") { await this.park(job, token, k); throw new DelayedError(); }
      handOn = v.after === "" ? {} : { after: v.after };
    } else if ((await this.d.redis.exists(k.sent)) === 1) {
      return;
    }
    let handed = false;
    try {
      const pending = await this.d.handler.deliver(toDeliveryJob(job, handOn));
      if (pending) {
        pending.confirmed.catch(() => undefined); // awaited below; never an unhandled rejection meanwhile
        // Written on an ordered connection: the next job of the conversation may go now. A failed
        // hand-on only costs the pipelining (the job stays the head until its confirmation).
        if (ordered) handed = await this.order.handOn(k.line, id, pending.channel).then(() => true, () => false);
        await pending.confirmed;
      }
    } catch (e) {
      // Back in line before the retry, so it goes out before every later job (a failed UNHAND is
      // repaired by the retry's BEGIN; later jobs meanwhile are refused by the adapter: `after`).
      if (handed) await this.order.unhand(k.line, id).catch(() => undefined);
      if (e instanceof BehindUnconfirmed) return this.waitBehind(job, token);
      return this.failed(job, e, k);
    }
    await this.order.done(k.line, k.sent, id, this.d.opts.markerTtlSeconds, ordered);
    const label = queueLabel(job.queueName);
    this.d.metrics?.completed.inc({ queue: label });
    this.d.metrics?.latency.observe({ queue: label }, (Date.now() - job.timestamp) / 1000);
  }

  /**
   * Its predecessors went out on a connection that is gone, unconfirmed (hand-on): they are sent
   * again first once their jobs come back (their confirmation failed; or a dead process's, at a
   * stalled check once its ownership lease lapsed or their locks expired). Wait without spending an
   * attempt — spending them let a fast retry policy fail a message for good while its predecessors
   * were still on their way back — and look again every stalled-check interval (at most parkMs);
   * once they are back BEGIN finds them in line and parks this job behind them. Waiting out a whole
   * lock's length (lockDurationMs + stalledIntervalMs, 4 s) held a conversation up to ~2 s after
   * its predecessors were back, now that a dead process's jobs come back at its lease lapse.
   */
  private async waitBehind(job: Job<JobData>, token: string | undefined): Promise<never> {
    await job.moveToDelayed(Date.now() + Math.min(this.d.opts.parkMs, this.d.opts.stalledIntervalMs), token);
    throw new DelayedError();
  }

  /** Out of turn: wait in the delayed set until the predecessor's done wakes us (or parkMs passes). */
  private async park(job: Job<JobData>, token: string | undefined, k: ReturnType<typeof deliveryKeys>): Promise<void> {
    const parks = Math.max(0, job.attemptsStarted - job.attemptsMade - 1);
    const wait = Math.min(this.d.opts.parkMaxMs, this.d.opts.parkMs * 2 ** Math.min(parks, 16));
    await job.moveToDelayed(Date.now() + wait, token);
    await this.order.parked(k.line);
  }

  private async failed(job: Job<JobData>, e: unknown, k: ReturnType<typeof deliveryKeys>): Promise<never> {
    const err = asDeliveryError(e);
    const queue = queueLabel(job.queueName);
    if (err.failureClass === "rate-limited") {
      this.d.metrics?.rateLimited.inc({ queue });
      await this.d.queues.get(job.queueName)!.rateLimit(err.retryAfterMs ?? this.d.opts.defaultRateLimitMs);
      throw Worker.RateLimitError();
    }
    const attempts = job.opts.attempts ?? 1;
    const final = err.failureClass === "permanent" || job.attemptsMade + 1 >= attempts;
    if (!final) {
      this.d.metrics?.retried.inc({ queue });
      this.d.log.debug({ queue, jobId: job.id, attempt: job.attemptsMade + 1, reason: err.reason }, "delivery failed, will retry");
      throw err;
    }
    await this.finalise(job, err, k);
    throw new UnrecoverableError(`${err.failureClass} (${err.reason}): ${err.message}`);
  }

  /**
   * A job failed for good: report it once (a marker makes a re-run after a crash skip the report;
   * the report itself is at-least-once: a crash between it and the marker repeats it), then hand
   * the conversation's turn on so the conversation is not stuck for ever.
   */
  async finalise(job: Job<JobData>, err: DeliveryError, k = deliveryKeys(this.d.keys, job.queueName, job.id!, job.data.conversation)): Promise<void> {
    if ((await this.d.redis.exists(k.reported)) === 0) {
      try {
        await this.d.handler.onFinalFailure(toDeliveryJob(job), err);
      } catch (e) {
        this.d.log.error({ queue: job.queueName, jobId: job.id, err: e }, "onFinalFailure threw");
      }
    }
    await this.order.done(k.line, k.reported, job.id!, this.d.opts.markerTtlSeconds, job.data.conversation !== null);
    this.d.metrics?.failed.inc({ queue: queueLabel(job.queueName) });
    this.d.log.warn({ queue: job.queueName, jobId: job.id, reason: err.reason, failureClass: err.failureClass, attempts: job.attemptsMade + 1 }, "delivery failed for good");
  }
}

export function toDeliveryJob(job: Job<JobData>, handOn?: HandOn): DeliveryJob {
  const d = job.data;
  return { kind: d.kind, network: d.network, key: d.key, conversation: d.conversation ?? undefined, payload: d.payload, attempt: job.attemptsMade + 1, ...(handOn ? { handOn } : {}) };
}
