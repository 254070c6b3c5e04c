/**
 * The delivery handler: what a worker does with each job (DESIGN §3). Messages go to the
 * recipient's adapter; its outcome is recorded and, when end-to-end, reported to the sender; a
 * final failure becomes a `failed` DeliveryStatus routed to the sender's own network.
 */
import type { z } from "zod";
import { asDeliveryError } from "../adapter/classify.js";
import { DeliveryError, type DeliveryOutcome, type PendingConfirm } from "../adapter/contract.js";
import type { IdMap } from "../adapter/state.js";
import { MessageSchema, type Message } from "../model/message.js";
import { DeliveryStatusSchema, type DeliveryStatus } from "../model/delivery-status.js";
import { canonicalIdTime } from "../model/ids.js";
import type { DeliveryHandler, DeliveryJob, DeliveryService } from "../delivery/types.js";
import type { Logger } from "../log/logger.js";
import type { CoreMetrics } from "./metrics.js";
import type { AdapterLookup, PresencePort } from "./ports.js";
import { statusJob } from "./jobs.js";
import { NO_TRACE, type Tracer } from "../trace/tracer.js";
import { nowMs } from "../trace/hops.js";
import { errorMessage } from "../errors/message.js";

export interface DispatchDeps {
  readonly adapters: AdapterLookup;
  readonly presence: PresencePort;
  readonly delivery: DeliveryService;
  readonly ids: IdMap;
  readonly log: Logger;
  readonly metrics: CoreMetrics;
  /** Room jobs (src/rooms, issue 12). */
  readonly rooms?: Pick<DeliveryHandler, "onFinalFailure"> & { handleJob(job: DeliveryJob): Promise<void> };
  /** Per-message trace (issue 17); none by default. */
  readonly trace?: Tracer;
}

/** Parse a job's payload; a payload that fails its schema can never succeed: permanent. */
function payload<T>(schema: z.ZodType<T>, job: DeliveryJob): T {
  const parsed = schema.safeParse(job.payload);
  if (!parsed.success) throw asDeliveryError(parsed.error);
  return parsed.data;
}

export class Dispatcher implements DeliveryHandler {
  private readonly trace: Tracer;
  constructor(private readonly deps: DispatchDeps) {
    this.trace = deps.trace ?? NO_TRACE;
  }

  async deliver(job: DeliveryJob): Promise<void | PendingConfirm> {
    switch (job.kind) {
      case "message":
        return this.deliverMessage(job, payload(MessageSchema, job));
      case "status":
        return this.deliverStatus(job, payload(DeliveryStatusSchema, job));
      case "presence":
      case "subscription":
        return this.deps.presence.handleJob(job);
      case "room":
        if (!this.deps.rooms) throw new DeliveryError("permanent", "unsupported", "rooms are not bridged in this process");
        return this.deps.rooms.handleJob(job);
    }
  }

  private adapterFor(job: DeliveryJob) {
    const adapter = this.deps.adapters(job.network);
    if (adapter === undefined) throw new DeliveryError("transient", "unavailable", `no ${job.network} adapter runs in this process`);
    return adapter;
  }

  private async deliverMessage(job: DeliveryJob, message: Message): Promise<void | PendingConfirm> {
    const startedAt = this.trace.enabled ? nowMs() : 0;
    const failed = (e: unknown): never => {
      const err = asDeliveryError(e);
      this.trace.attempt(message.id, { network: job.network, attempt: job.attempt, startedAt, outcome: "failed", failureClass: err.failureClass, reason: err.reason, detail: err.message });
      throw e;
    };
    let outcome: DeliveryOutcome;
    try {
      outcome = await this.adapterFor(job).deliverMessage(message, job.handOn);
    } catch (e) {
      return failed(e);
    }
    const pending = outcome.pending;
    if (pending === undefined) return this.handedOff(job, message, outcome, startedAt);
    // Written, not yet confirmed (hand-on): what a hand-off records waits for the confirmation.
    const confirmed = pending.confirmed.then(() => this.handedOff(job, message, outcome, startedAt), failed);
    confirmed.catch(() => undefined); // the worker awaits it; no unhandled rejection meanwhile
    return { channel: pending.channel, confirmed };
  }

  private async handedOff(job: DeliveryJob, message: Message, outcome: DeliveryOutcome, startedAt: number): Promise<void> {
    this.trace.attempt(message.id, { network: job.network, attempt: job.attempt, startedAt, outcome: outcome.state, nativeIds: outcome.nativeIds.map((n) => n.id) });
    for (const native of outcome.nativeIds) await this.deps.ids.link(message.id, native);
    this.deps.metrics.delivered.inc({ network: job.network, kind: job.kind, state: outcome.state });
    this.deps.metrics.endToEnd.observe({ network: job.network }, (Date.now() - canonicalIdTime(message.id)) / 1000);
    this.deps.log.debug({ messageId: message.id, network: job.network, state: outcome.state, attempt: job.attempt }, "message handed off");
    if (outcome.state === "delivered") await this.reportToSender(message, "delivered");
  }

  private async deliverStatus(job: DeliveryJob, status: DeliveryStatus): Promise<void> {
    await this.adapterFor(job).deliverStatus(status);
    this.trace.reported(status.messageId, job.network, status.state);
    this.deps.metrics.delivered.inc({ network: job.network, kind: job.kind, state: status.state });
  }

  private async reportToSender(message: Message, state: "delivered" | "failed", error?: DeliveryError): Promise<void> {
    const status = DeliveryStatusSchema.parse({
      messageId: message.id,
      sender: message.from,
      recipient: message.to,
      state,
      reason: error?.reason,
      text: error ? `Not delivered to ${message.to.address}: ${error.message}` : undefined,
      at: new Date().toISOString(),
      extensions: error?.nativeDetail ? { "urn:parley:native-detail": { payload: error.nativeDetail } } : {},
    });
    await this.deps.delivery.enqueue([statusJob(status)]);
  }

  private async reportRoomFailure(job: DeliveryJob, e: DeliveryError): Promise<void> {
    try {
      await this.deps.rooms?.onFinalFailure(job, e);
    } catch (reportError) {
      this.deps.log.error({ key: job.key, err: errorMessage(reportError) }, "could not queue the failure report for the room sender");
    }
  }

  async onFinalFailure(job: DeliveryJob, error: DeliveryError): Promise<void> {
    const e = asDeliveryError(error);
    this.deps.metrics.failed.inc({ network: job.network, kind: job.kind, reason: e.reason });
    this.deps.log.warn({ key: job.key, network: job.network, kind: job.kind, reason: e.reason, detail: e.nativeDetail, err: e.message }, "delivery failed for good");
    if (job.kind === "room") return this.reportRoomFailure(job, e);
    if (job.kind !== "message") return;
    const parsed = MessageSchema.safeParse(job.payload);
    if (!parsed.success) return;
    this.trace.failed(parsed.data.id, job.network, e.reason, e.message);
    try {
      await this.reportToSender(parsed.data, "failed", e);
    } catch (reportError) {
      this.deps.log.error({ key: job.key, err: errorMessage(reportError) }, "could not queue the failure report for the sender");
    }
  }
}
