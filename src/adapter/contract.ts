/**
 * The adapter contract: everything the core knows about a network. An adapter is one folder in
 * `adapters/` exposing one {@link AdapterFactory}; `adapters/index.ts` lists them and
 * `bin/parley.ts` hands that list to `src/gateway.ts`. The core never imports an adapter.
 */
import type { z } from "zod";
import type { Logger } from "../log/logger.js";
import type { CanonicalEvent } from "../model/events.js";
import type { Endpoint, NetworkId } from "../model/address.js";
import type { Message, NativeId } from "../model/message.js";
import type { Presence } from "../model/presence.js";
import type { DeliveryStatus, FailureReason } from "../model/delivery-status.js";
import type { Subscription } from "../model/subscription.js";
import type { CanonicalId } from "../model/ids.js";
import type { DomainMappings } from "../mappings/types.js";
import type { ParleyError } from "../errors/parley-error.js";
import type { AdapterStateStore, IdMap } from "./state.js";

/** What a network can carry; the core uses it to decide what to send, docs list what is lost. */
export interface AdapterCapabilities {
  /** The network has presence (email does not: RFC 2779 2.1.2). */
  readonly presence: boolean;
  /** The network answers subscription requests natively (an XMPP roster) or through a bot. */
  readonly subscriptions: boolean;
  readonly receipts: { readonly delivered: boolean; readonly displayed: boolean };
  readonly subject: boolean;
  readonly html: boolean;
  readonly edits: boolean;
  /** The largest message body (bytes) the network takes. */
  readonly maxMessageBytes: number;
}

/**
 * How addresses look on one network: pure, reversible functions of (canonical address, mappings)
 * (DESIGN §1). `toNative(fromNative(x)) === x` for every native id the network accepts.
 */
export interface NetworkAddressing {
  /** Schema of the adapter's `networks.<id>` section in the mappings file. */
  readonly networkSettingsSchema: z.ZodType<Record<string, unknown>>;
  /** Schema of a domain's `appearsOn.<id>` section. */
  readonly appearanceSchema: z.ZodType<Record<string, unknown>>;
  /** How `who` appears on this network: its own id if this is its home, else its foreign form. */
  toNative(who: Endpoint, mappings: DomainMappings): string;
  /** The endpoint behind a native id; throws ParleyError PARLEY_ADDRESS_UNKNOWN or PARLEY_ADDRESS_INVALID. */
  fromNative(native: string, mappings: DomainMappings): Endpoint;
}

/** A failure class decides what the delivery worker does (DESIGN §3). */
export type FailureClass = "transient" | "permanent" | "rate-limited";

/** Thrown by an adapter's deliver methods. The worker alone maps it to queue semantics. */
export class DeliveryError extends Error {
  readonly failureClass: FailureClass;
  readonly reason: FailureReason;
  /** For rate-limited failures: how long the destination asked us to wait. */
  readonly retryAfterMs: number | undefined;
  /** Native detail (e.g. "SMTP 550 5.1.1", "M_FORBIDDEN") for logs and the sender's report. */
  readonly nativeDetail: string | undefined;

  constructor(failureClass: FailureClass, reason: FailureReason, message: string, opts: { retryAfterMs?: number; nativeDetail?: string; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.name = "DeliveryError";
    this.failureClass = failureClass;
    this.reason = reason;
    this.retryAfterMs = opts.retryAfterMs;
    this.nativeDetail = opts.nativeDetail;
  }
}

/** What a successful hand-off achieved (a hand-off is `relayed`; only end-to-end proof is `delivered`). */
export interface DeliveryOutcome {
  readonly state: "relayed" | "delivered";
  /** Native ids the destination assigned, linked to the canonical id for echo suppression and receipts. */
  readonly nativeIds: readonly NativeId[];
}

/** Presence to show to one watcher on this adapter's network, already projected for that watcher. */
export interface PresenceNotification {
  readonly watcher: Endpoint;
  readonly presence: Presence;
}

/**
 * A subscription change to tell someone on this network about: a request to a presentity here
 * (`to` is the presentity), or an outcome to a watcher here (`to` is the watcher).
 */
export interface SubscriptionNotice {
  readonly to: Endpoint;
  readonly subscription: Subscription;
  /** `request`: the presentity must decide; `outcome`: the watcher learns the decision. */
  readonly notice: "request" | "outcome";
}

export interface LinkHealth {
  readonly ready: boolean;
  readonly detail: string;
}

/** What {@link AdapterContext.accept} says of each event. */
export type AcceptResult =
  | { readonly status: "accepted"; readonly messageId?: CanonicalId }
  /** Seen before (same native id), or Parley's own echo: acknowledge, do nothing. */
  | { readonly status: "duplicate" }
  /** Policy, validation or routing refused it; tell the sender with `error` in the network's terms. */
  | { readonly status: "refused"; readonly error: ParleyError };

/** The adapter's only door into the core. */
export interface AdapterContext {
  readonly network: NetworkId;
  readonly log: Logger;
  mappings(): DomainMappings;
  /**
   * Hand inbound events to the core. Resolves once every accepted event is durable in Redis: only
   * then may the adapter acknowledge to its source. Rejects with ParleyError PARLEY_UNAVAILABLE
   * when nothing could be stored; the adapter answers "try later" (SMTP 451, HTTP 503, XMPP wait).
   */
  accept(events: readonly CanonicalEvent[]): Promise<AcceptResult[]>;
  /** The presence of `presentity` as `watcher` may see it, or undefined when there is none. */
  presenceFor(watcher: Endpoint, presentity: Endpoint): Promise<Presence | undefined>;
  /** Subscriptions in which `who` is the presentity (its watchers) or the watcher. */
  subscriptionsOf(who: Endpoint, side: "watchers" | "watching"): Promise<readonly Subscription[]>;
  /** How an endpoint appears on another network (for display names, notices). */
  addressOn(who: Endpoint, network: NetworkId): string;
  /** Durable per-adapter state in Redis under the adapter's own key prefix. */
  readonly state: AdapterStateStore;
  /** The map between canonical and native message ids. */
  readonly ids: IdMap;
}

/** The live adapter. Every method may be called concurrently for different conversations. */
export interface Adapter {
  /** Connect to the network and begin ingress. Resolves when ready to deliver. */
  start(ctx: AdapterContext): Promise<void>;
  /** Stop ingress, then disconnect. Idempotent. */
  stop(): Promise<void>;
  /** Deliver a message to a recipient whose home is this network. Throws {@link DeliveryError}. */
  deliverMessage(message: Message): Promise<DeliveryOutcome>;
  /** Show a presentity's presence to a watcher on this network. Throws {@link DeliveryError}. */
  deliverPresence(notification: PresenceNotification): Promise<void>;
  /** Tell someone here about a subscription request or outcome. Throws {@link DeliveryError}. */
  deliverSubscription(notice: SubscriptionNotice): Promise<void>;
  /** Report a delivery status to the original sender, who is on this network. Throws {@link DeliveryError}. */
  deliverStatus(status: DeliveryStatus): Promise<void>;
  health(): LinkHealth;
}

/** One per network. `satisfies AdapterFactory<C>` in each adapter lets the compiler prove conformance. */
export interface AdapterFactory<Config = unknown> {
  readonly id: NetworkId;
  readonly capabilities: AdapterCapabilities;
  /** The adapter's section of the gateway config (`adapters.<id>`). */
  readonly configSchema: z.ZodType<Config>;
  readonly addressing: NetworkAddressing;
  create(config: Config): Adapter;
}
