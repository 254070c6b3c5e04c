/**
 * The accept pipeline (DESIGN §3): every inbound event passes here before anything is
 * acknowledged to its source. For a message: validate, loop guard, dedupe on native ids, route
 * through the mappings, sender authentication, inbox access rules, size and end-to-end bounds,
 * then one durable delivery job. The result says, per event, what the adapter answers its source.
 */
import type { AcceptResult, AdapterCapabilities } from "../adapter/contract.js";
import type { IdMap } from "../adapter/state.js";
import { endpointKey, domainOf, type NetworkId } from "../model/address.js";
import { isAuthenticated } from "../model/common.js";
import type { CanonicalEvent, DeliveryStatusEvent, MessageEvent } from "../model/events.js";
import type { RoomEvent } from "../model/room-events.js";
import { MessageSchema, type Message } from "../model/message.js";
import { DeliveryStatusSchema } from "../model/delivery-status.js";
import { ParleyError, isParleyError } from "../errors/parley-error.js";
import type { DomainMappings } from "../mappings/types.js";
import type { DeliveryJobSpec, DeliveryService } from "../delivery/types.js";
import type { Logger } from "../log/logger.js";
import type { CoreMetrics } from "./metrics.js";
import type { InboundClaims, MessagePolicy, PresencePort, RouteFn } from "./ports.js";
import { messageJob, statusJob } from "./jobs.js";
import { queueName } from "../delivery/names.js";
import { NO_TRACE, type Tracer } from "../trace/tracer.js";
import { nowMs } from "../trace/hops.js";
import { policyFor } from "../router/route.js";
import { claimNativeIds, isEcho, releaseClaims } from "./native-ids.js";
import { fitToFeatures } from "./features.js";
import type { RoomTypingEvent, TypingEvent } from "../model/interactions.js";
import { errorMessage } from "../errors/message.js";

export interface AcceptDeps {
  readonly mappings: () => DomainMappings;
  readonly route: RouteFn;
  readonly policy: MessagePolicy;
  readonly presence: PresencePort;
  readonly delivery: DeliveryService;
  readonly claims: InboundClaims;
  readonly ids: IdMap;
  readonly capabilities: (network: NetworkId) => AdapterCapabilities | undefined;
  readonly log: Logger;
  readonly metrics: CoreMetrics;
  /** Room events (src/rooms, issue 12); without it they are refused as unsupported. */
  readonly rooms?: { accept(source: NetworkId, event: RoomEvent): Promise<AcceptResult> };
  /** Per-message trace (issue 17); none by default. */
  readonly trace?: Tracer;
  /** The best-effort typing path (src/core/typing.ts); without it typing is refused as unsupported. */
  readonly typing?: { offer(source: NetworkId, event: TypingEvent): AcceptResult; offerRoom(source: NetworkId, event: RoomTypingEvent): AcceptResult };
  /** Shared per-sender and per-domain rate limits (src/limits); none when absent. */
  readonly limits?: { admit(source: NetworkId, from: Message["from"]): Promise<ParleyError | undefined> };
}

/** A message that passed every check, with the job that delivers it. */
interface Admitted {
  readonly index: number;
  readonly message: Message;
  readonly job: DeliveryJobSpec;
  readonly claimed: readonly string[];
  /** When its accept began (for the trace). */
  readonly startedAt: number;
}

const refused = (error: ParleyError): AcceptResult => ({ status: "refused", error });

/** Per `accept` call: the rate limits' verdict on each sending already counted, by sender and submission. */
type Submissions = Map<string, Promise<ParleyError | undefined>>;

const textBytes = (parts: Message["parts"]): number => parts.reduce((n, p) => n + (p.role === "text" || p.role === "html" ? Buffer.byteLength(p.body) : 0), 0);

/**
 * Degrade before refusing (issue 11, class 8): a message too large for the target only because of
 * its HTML alternative goes as plain text; one whose text alone is too large is refused, and the
 * refusal names the limit that was exceeded.
 */
export function fitToSize(message: Message, max: number, network: NetworkId): Message | AcceptResult {
  const size = textBytes(message.parts);
  if (size <= max) return message;
  const plain = message.parts.filter((p) => p.role !== "html");
  const hasText = plain.some((p) => p.role === "text");
  if (hasText && textBytes(plain) <= max) return { ...message, parts: plain };
  return refused(new ParleyError("PARLEY_TOO_LARGE", `the message text has ${textBytes(plain)} bytes; ${network} takes at most ${max}`));
}

/** Programming-level faults caused by the event's own values: retrying cannot help. */
const isDeterministicFault = (e: unknown): e is Error => e instanceof RangeError || e instanceof TypeError || e instanceof SyntaxError;

const isPresenceKind = (e: CanonicalEvent): boolean => e.kind === "presence" || e.kind === "presence-probe" || e.kind === "subscription";

export class AcceptPipeline {
  private readonly trace: Tracer;
  constructor(private readonly deps: AcceptDeps) {
    this.trace = deps.trace ?? NO_TRACE;
  }

  /**
   * Accept a batch from one adapter. Messages are enqueued in one round; presence and
   * subscription events go to the presence service. Rejects with PARLEY_UNAVAILABLE when the
   * batch could not be stored, in which case nothing of it may be acknowledged.
   */
  async accept(source: NetworkId, events: readonly CanonicalEvent[]): Promise<AcceptResult[]> {
    const results: AcceptResult[] = new Array<AcceptResult>(events.length);
    const admitted: Admitted[] = [];
    const jobs: DeliveryJobSpec[] = [];
    // Messages and statuses first, enqueued in one round; presence and subscriptions after, so a
    // presence-heavy batch never delays the messages in it (DESIGN §4).
    const order = [...events.keys()].sort((a, b) => Number(isPresenceKind(events[a]!)) - Number(isPresenceKind(events[b]!)));
    const firstPresence = order.findIndex((i) => isPresenceKind(events[i]!));
    const submissions: Submissions = new Map();
    for (const [position, index] of order.entries()) {
      const event = events[index]!;
      if (position === firstPresence && jobs.length > 0) await this.enqueueAdmitted(source, admitted.splice(0), jobs.splice(0));
      try {
        const outcome = await this.acceptOne(source, event, index, submissions);
        if ("job" in outcome) {
          admitted.push(outcome);
          jobs.push(outcome.job);
          results[index] = { status: "accepted", messageId: outcome.message.id };
        } else {
          results[index] = outcome;
        }
      } catch (e) {
        // An error that any retry would repeat (a value no code path expected: RangeError "Invalid
        // time value", a stack overflow, a TypeError) refuses this one event; a retry of the batch
        // would fail the same way forever and hold up everything behind it (issue 11, class 2).
        if (isDeterministicFault(e)) {
          this.deps.log.error({ source, kind: event.kind, err: e.message }, "event refused: it cannot be processed");
          results[index] = refused(new ParleyError("PARLEY_INVALID_EVENT", "the event cannot be processed", {}, { cause: e }));
          continue;
        }
        // A refusal is a ParleyError; anything else (a Redis client error, a timeout) means the
        // event could not be decided and stored: the source must retry, so nothing is acknowledged.
        if (!isParleyError(e) || e.code === "PARLEY_UNAVAILABLE") {
          await this.releaseClaims(admitted);
          throw isParleyError(e) ? e : new ParleyError("PARLEY_UNAVAILABLE", `cannot accept now: ${errorMessage(e)}`, {}, { cause: e });
        }
        results[index] = refused(e);
      }
    }
    if (jobs.length > 0) await this.enqueueAdmitted(source, admitted, jobs);
    return results;
  }

  private async enqueueAdmitted(source: NetworkId, admitted: readonly Admitted[], jobs: readonly DeliveryJobSpec[]): Promise<void> {
    // The trace is written beside the enqueue's group commit (same turn), never awaited.
    if (this.trace.enabled) for (const a of admitted) this.traceAdmitted(source, a);
    try {
      await this.deps.delivery.enqueue(jobs);
    } catch (e) {
      this.trace.notStored(admitted.map((a) => a.message.id), errorMessage(e));
      await this.releaseClaims(admitted);
      throw isParleyError(e) ? e : new ParleyError("PARLEY_UNAVAILABLE", undefined, {}, { cause: e });
    }
    for (const a of admitted) {
      this.deps.metrics.accepted.inc({ source, target: a.job.network });
      this.deps.log.debug({ messageId: a.message.id, from: a.message.from.address, to: a.message.to.address, target: a.job.network }, "message accepted");
    }
  }

  private traceAdmitted(source: NetworkId, a: Admitted): void {
    const listed = this.deps.mappings().domains.has(domainOf(a.message.to.address));
    const via = listed ? `listed domain ${domainOf(a.message.to.address)}` : "open federation";
    this.trace.admitted(a.message, source, a.startedAt, { network: a.job.network, via }, queueName(a.job.kind, a.job.network));
  }

  private async releaseClaims(admitted: readonly Admitted[]): Promise<void> {
    for (const a of admitted) await releaseClaims(this.deps.claims, a.claimed, a.message.id);
  }

  private async acceptOne(source: NetworkId, event: CanonicalEvent, index: number, submissions: Submissions): Promise<Admitted | AcceptResult> {
    switch (event.kind) {
      case "message":
        return this.acceptMessage(source, event, index, submissions);
      case "delivery-status":
        return this.acceptStatus(source, event);
      case "presence":
        return this.deps.presence.publish(event, source);
      case "presence-probe":
        return this.deps.presence.probe(event, source);
      case "subscription":
        return this.deps.presence.subscription(event, source);
      case "room":
        return this.deps.rooms ? this.deps.rooms.accept(source, event) : refused(new ParleyError("PARLEY_UNSUPPORTED", "rooms are not bridged here"));
      case "typing":
        return this.deps.typing ? this.deps.typing.offer(source, event) : refused(new ParleyError("PARLEY_UNSUPPORTED", "typing is not relayed here"));
      case "room-typing":
        return this.deps.typing ? this.deps.typing.offerRoom(source, event) : refused(new ParleyError("PARLEY_UNSUPPORTED", "typing is not relayed here"));
    }
  }

  private async acceptMessage(source: NetworkId, event: MessageEvent, index: number, submissions: Submissions): Promise<Admitted | AcceptResult> {
    const parsed = MessageSchema.safeParse(event.message);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return refused(new ParleyError("PARLEY_INVALID_EVENT", `message field ${issue?.path.join(".") || "(root)"}: ${issue?.message ?? "invalid"}`));
    }
    const message = parsed.data;
    const startedAt = this.trace.enabled ? nowMs() : 0;
    if (message.from.network !== source) {
      return refused(new ParleyError("PARLEY_NOT_AUTHENTICATED", `a ${source} connection cannot send as a ${message.from.network} user`));
    }
    if (await isEcho(this.deps.ids, message.nativeIds)) return { status: "duplicate" };
    const claim = await claimNativeIds(this.deps.claims, message.id, message.nativeIds);
    if (claim.earlier !== undefined) return this.reenqueueReplay({ ...message, id: claim.earlier });
    const decision = await this.admit(message);
    if (decision === "not-shown") {
      this.trace.refused(message, source, startedAt, "PARLEY_UNSUPPORTED", "dropped: the target network cannot show it");
      return { status: "accepted", messageId: message.id };
    }
    if ("status" in decision) return this.turnedAway(source, message, claim.claimed, startedAt, decision);
    const limited = await this.limited(source, message, event.submission, submissions);
    if (limited) return this.turnedAway(source, message, claim.claimed, startedAt, limited);
    const outgoing = { ...decision, hops: message.hops - 1 };
    return { index, message: outgoing, job: messageJob(outgoing, message.to.network), claimed: claim.claimed, startedAt };
  }

  /** A message that will not go: its claims released (its source may send it again), its refusal traced. */
  private async turnedAway(source: NetworkId, message: Message, claimed: readonly string[], startedAt: number, verdict: AcceptResult): Promise<AcceptResult> {
    for (const key of claimed) await this.deps.claims.release(key, message.id);
    if (verdict.status === "refused") this.trace.refused(message, source, startedAt, verdict.error.code, verdict.error.message);
    return verdict;
  }

  /**
   * The shared rate limits' refusal of an admitted message, if it is over one (replays are not
   * counted). The copies of one sending to several recipients (`submission`) are counted once, for
   * the sender and for its domain: the first copy takes the count, the others share its verdict.
   */
  private async limited(source: NetworkId, message: Message, submission: string | undefined, submissions: Submissions): Promise<AcceptResult | undefined> {
    const limits = this.deps.limits;
    if (!limits) return undefined;
    const key = submission === undefined ? undefined : `${endpointKey(message.from)} ${submission}`;
    let verdict = key === undefined ? undefined : submissions.get(key);
    if (verdict === undefined) {
      verdict = limits.admit(source, message.from);
      if (key !== undefined) submissions.set(key, verdict);
    }
    const error = await verdict;
    return error ? refused(error) : undefined;
  }

  /**
   * A replay of a message accepted before: enqueue it again under its first canonical id. The job
   * key and the sent marker make that a no-op when the first copy is queued or sent, and it closes
   * the window in which a claim was stored but its job was not (Redis failing between the two).
   */
  private async reenqueueReplay(message: Message): Promise<AcceptResult> {
    const decision = await this.admit(message);
    if (decision !== "not-shown" && !("status" in decision)) {
      const outgoing = { ...decision, hops: message.hops - 1 };
      await this.deps.delivery.enqueue([messageJob(outgoing, message.to.network)]);
    }
    return { status: "duplicate" };
  }

  /**
   * The checks that may refuse a message; else the message that may go (its formatting dropped
   * when only that made it too large), or "not-shown" for a reaction or retraction the target
   * network cannot show (accepted and dropped, issue 18).
   */
  private async admit(message: Message): Promise<AcceptResult | Message | "not-shown"> {
    const d = this.deps;
    if (message.hops <= 0) return refused(new ParleyError("PARLEY_LOOP", "the message has passed through too many gateways (hop count 0)"));
    const route = d.route(d.mappings(), message.from, message.to, "message");
    if (!route.ok) return refused(route.error);
    if (!isAuthenticated(message.authenticatedBy) && !policyFor(d.mappings(), domainOf(message.from.address)).acceptUnauthenticated) {
      return refused(new ParleyError("PARLEY_NOT_AUTHENTICATED", `the sender ${message.from.address} is not proved, and ${domainOf(message.from.address)} requires it`));
    }
    const allowed = await d.policy.mayMessage(message.from, message.to);
    if (!allowed.allowed) return refused(allowed.error);
    if (message.requireE2E) return refused(new ParleyError("PARLEY_UNSUPPORTED", "end-to-end encrypted content cannot be bridged, and the sender asked that it never be sent in clear"));
    const caps = d.capabilities(route.network);
    if (caps === undefined) return refused(new ParleyError("PARLEY_DISABLED", `no ${route.network} adapter is running`));
    const uncarried = Object.keys(message.extensions).find((ns) => message.extensions[ns]?.mustUnderstand && !caps.extensions?.includes(ns));
    if (uncarried !== undefined) return refused(new ParleyError("PARLEY_UNSUPPORTED", `${route.network} cannot carry ${uncarried}, which the sender marked must-understand`));
    const featured = fitToFeatures(message, caps, route.network, d.log);
    return featured === "not-shown" ? featured : fitToSize(featured, caps.maxMessageBytes, route.network);
  }

  /** A status reported by a recipient's network goes back to the original sender's network. */
  private async acceptStatus(source: NetworkId, event: DeliveryStatusEvent): Promise<AcceptResult> {
    const parsed = DeliveryStatusSchema.safeParse(event.status);
    if (!parsed.success) return refused(new ParleyError("PARLEY_INVALID_EVENT", parsed.error.issues[0]?.message));
    const status = parsed.data;
    if (status.recipient.network !== source) {
      return refused(new ParleyError("PARLEY_NOT_AUTHENTICATED", `a ${source} connection cannot report for ${endpointKey(status.recipient)}`));
    }
    if (status.state === "accepted" || status.state === "relayed") return { status: "accepted" };
    await this.deps.delivery.enqueue([statusJob(status)]);
    return { status: "accepted" };
  }
}

