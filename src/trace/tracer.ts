/**
 * The core's door to tracing (issue 17): the accept pipeline and the delivery handler tell it
 * what happened to a message; it turns that into hops for the {@link TraceWriter}. With tracing
 * off the core gets {@link NO_TRACE}, which does nothing.
 */
import { hostname } from "node:os";
import type { Message } from "../model/message.js";
import { nowMs, type Hop } from "./hops.js";
import type { TraceWriter } from "./writer.js";

/** What a delivery attempt came to. */
export interface AttemptOutcome {
  readonly network: string;
  readonly attempt: number;
  readonly startedAt: number;
  /** relayed | delivered, or failed with a class and reason. */
  readonly outcome: "relayed" | "delivered" | "displayed" | "failed";
  readonly failureClass?: string;
  readonly reason?: string;
  readonly detail?: string;
  /** Native ids the destination gave the message (indexed for lookups). */
  readonly nativeIds?: readonly string[];
}

export interface Tracer {
  readonly enabled: boolean;
  /** The message passed every check and is being queued (accepted, routed, enqueued in one write). */
  admitted(message: Message, source: string, startedAt: number, route: { network: string; via: string }, queue: string): void;
  /** The message was refused with `code` (nothing queued). */
  refused(message: Message, source: string, startedAt: number, code: string, detail: string): void;
  /** The batch holding these messages could not be stored; the source will retry. */
  notStored(ids: readonly string[], detail: string): void;
  attempt(messageId: string, a: AttemptOutcome): void;
  /** Retries spent or a permanent failure: the message failed for good. */
  failed(messageId: string, network: string, reason: string, detail: string): void;
  /** A status (delivered, displayed, failed) reached the sender on `network`. */
  reported(messageId: string, network: string, state: string): void;
}

export const NO_TRACE: Tracer = {
  enabled: false,
  admitted() {}, refused() {}, notStored() {}, attempt() {}, failed() {}, reported() {},
};

const PROCESS = `${hostname()}:${process.pid}`;

function acceptedHop(message: Message, source: string, at: number): Hop {
  return {
    hop: "accepted", at, network: source, from: message.from.address, to: message.to.address,
    nativeIds: message.nativeIds.map((n) => n.id),
    auth: message.authenticatedBy.detail ? `${message.authenticatedBy.method} (${message.authenticatedBy.detail})` : message.authenticatedBy.method,
    process: PROCESS,
  };
}

export class RedisTracer implements Tracer {
  readonly enabled = true;
  constructor(private readonly writer: TraceWriter) {}

  private index(message: Message): void {
    this.writer.indexAddress(message.from.address, message.id);
    this.writer.indexAddress(message.to.address, message.id);
    for (const n of message.nativeIds) this.writer.indexNative(n.id, message.id);
  }

  admitted(message: Message, source: string, startedAt: number, route: { network: string; via: string }, queue: string): void {
    const at = nowMs();
    this.writer.append(message.id,
      acceptedHop(message, source, startedAt),
      { hop: "routed", at, network: route.network, via: route.via, policy: "allowed" },
      { hop: "enqueued", at, queue });
    this.index(message);
  }

  refused(message: Message, source: string, startedAt: number, code: string, detail: string): void {
    this.writer.append(message.id, acceptedHop(message, source, startedAt), { hop: "refused", at: nowMs(), code, detail });
    this.index(message);
  }

  notStored(ids: readonly string[], detail: string): void {
    const at = nowMs();
    for (const id of ids) this.writer.append(id, { hop: "not-stored", at, detail });
  }

  attempt(messageId: string, a: AttemptOutcome): void {
    const at = nowMs();
    const attempt: Hop = {
      hop: "attempt", at: a.startedAt, durMs: Math.round((at - a.startedAt) * 1000) / 1000, process: PROCESS, network: a.network,
      attempt: a.attempt, outcome: a.outcome, failureClass: a.failureClass, reason: a.reason, detail: a.detail,
    };
    if (a.outcome === "failed") this.writer.append(messageId, attempt);
    else this.writer.append(messageId, attempt, { hop: a.outcome === "delivered" || a.outcome === "displayed" ? "delivered" : "relayed", at, network: a.network });
    for (const n of a.nativeIds ?? []) this.writer.indexNative(n, messageId);
  }

  failed(messageId: string, network: string, reason: string, detail: string): void {
    this.writer.append(messageId, { hop: "failed", at: nowMs(), network, reason, detail });
  }

  reported(messageId: string, network: string, state: string): void {
    this.writer.append(messageId, { hop: "reported", at: nowMs(), network, state });
  }
}
