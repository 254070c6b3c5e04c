/**
 * The adapter contract: everything the core knows about a network. An adapter is one folder in
 * `adapters/` exposing one {@link AdapterFactory}; `adapters/index.ts` lists them and
 * `bin/parley.ts` hands that list to `src/gateway.ts`. The core never imports an adapter.
 *
 * Every method says when the core calls it and what it must not do (after mautrix bridgev2's
 * `networkinterface.go`). Optional capabilities are optional interfaces in their own files
 * (`presence.ts`: presence and subscriptions), found by the core with a type guard: an adapter
 * implements only what its network has, never a no-op stub.
 */
import type { z } from "zod";
import type { Logger } from "../log/logger.js";
import type { CanonicalEvent } from "../model/events.js";
import type { Endpoint, NetworkId } from "../model/address.js";
import type { Message, NativeId } from "../model/message.js";
import type { Presence } from "../model/presence.js";
import type { DeliveryStatus, FailureReason } from "../model/delivery-status.js";
import type { Subscription } from "../model/subscription.js";
import type { AdapterCommand, AdapterDocs, AdapterDoctorContext, AdapterProvisioning, AddressClaim, Finding } from "./declarations.js";
import type { CanonicalId } from "../model/ids.js";
import type { DomainMappings } from "../mappings/types.js";
import type { ParleyError } from "../errors/parley-error.js";
import type { AdapterStateStore, IdMap } from "./state.js";
import type { MediaPort } from "./media.js";
import type { ChatFeatures } from "../model/interactions.js";
import type { BlockPort } from "./blocks.js";
import type { ProfilePort } from "./profiles.js";
import type { RatePort } from "./limits.js";
import type { OpenRoomPort } from "./open-rooms.js";

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
  /**
   * Extension namespaces (docs/extensions.md) the adapter carries onto its network; absent means
   * none. A message with a `mustUnderstand` extension not listed here is refused (RFC 2779 3.1.4).
   */
  readonly extensions?: readonly string[];
  /** Reactions, retractions, replies and typing the network shows (`features.ts`); absent means none. */
  readonly chat?: ChatFeatures;
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
  /**
   * Names the network's own settings occupy on it (e.g. a puppet prefix), besides the shared
   * domains the core already knows. When called: while loading the mappings, with the parsed
   * `networks.<id>` section. Must not: throw (a name the schema let through is a claim).
   */
  settingsClaims(settings: Readonly<Record<string, unknown>>): readonly AddressClaim[];
  /** Names one domain's `appearsOn.<id>` section occupies on this network (same rules). */
  appearanceClaims(appearance: Readonly<Record<string, unknown>>): readonly AddressClaim[];
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

/**
 * Hand-on: this message was not written because earlier messages of its conversation went out on a
 * connection that is gone and still await their confirmation ({@link HandOn} `after`). Not a
 * failure of this message: the core waits (no attempt spent) until those earlier ones are sent
 * again — after a crash, when the delivery layer's stall check gives their jobs back.
 */
export class BehindUnconfirmed extends DeliveryError {
  constructor(message: string) {
    super("transient", "unavailable", message);
    this.name = "BehindUnconfirmed";
  }
}

/** What a successful hand-off achieved (a hand-off is `relayed`; only end-to-end proof is `delivered`). */
export interface DeliveryOutcome {
  readonly state: "relayed" | "delivered";
  /** Native ids the destination assigned, linked to the canonical id for echo suppression and receipts. */
  readonly nativeIds: readonly NativeId[];
  /**
   * Only when the caller passed a {@link HandOn}: the message is written on an ordered connection
   * (`channel`) and the network has not confirmed it yet. The caller may hand the conversation's
   * turn on now; the message counts as taken only when `confirmed` resolves. `confirmed` rejects
   * (a transient DeliveryError) when that connection died before the network confirmed it — and
   * then every later message written on the same connection rejects too.
   */
  readonly pending?: PendingConfirm;
}

/** A write on an ordered connection whose confirmation is still to come (see DeliveryOutcome.pending). */
export interface PendingConfirm {
  /** Names the connection (network, link, process, generation): equal strings, same ordered stream. */
  readonly channel: string;
  readonly confirmed: Promise<void>;
}

/**
 * The caller of `deliverMessage` accepts a pending outcome (an adapter may still confirm before
 * returning). `after`: earlier messages of this conversation are written on that channel and not
 * yet confirmed; the adapter writes this one only on the same channel (else a transient
 * DeliveryError, nothing written), so order holds across a reconnect: if that connection dies
 * they all fail and are sent again, in order.
 */
export interface HandOn { readonly after?: string }

export interface LinkHealth {
  readonly ready: boolean;
  readonly detail: string;
  /**
   * Bridged rooms that currently refuse or removed Parley (issue 12): shown in `/readyz` detail and
   * counted by `parley_room_links_unhealthy`. They do not make the link unready: one bad room must
   * not take the whole gateway out of a load balancer (docs/rooms.md).
   */
  readonly rooms?: readonly RoomLinkProblem[];
}

/** Why a bridged room refuses Parley, in network-neutral words (a metric label: a small fixed set). */
export const ROOM_LINK_FAILURES = ["members-only", "password", "banned", "kicked", "destroyed", "nick-conflict", "full", "not-found", "not-allowed", "removed", "refused"] as const;
export type RoomLinkFailure = (typeof ROOM_LINK_FAILURES)[number];

/** One bridged room that refuses or removed Parley: its native id, why (a {@link RoomLinkFailure}) and the room's own words. */
export interface RoomLinkProblem {
  readonly room: string;
  readonly reason: RoomLinkFailure;
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
  /** Files: the shared blob store, the one fetcher, the media listener (absent in some tests). */
  readonly media?: MediaPort;
  /** Users' own block lists (absent in some tests). */
  readonly blocks?: BlockPort;
  /** Rate limits shared by every ingress process (absent in some tests): `limits.ts`. */
  readonly limits?: RatePort;
  /** Profiles (display name, avatar, contacts) from each endpoint's home network. */
  readonly profiles?: ProfilePort;
  /**
   * False in a process of the `workers` role (docs/deployment.md): `start` readies the sending side
   * only and opens no listener or link. Absent or true: start ingress too.
   */
  readonly ingress?: boolean;
  /** Open rooms (issue 12, src/adapter/rooms.ts); absent in some tests. */
  readonly rooms?: OpenRoomPort;
  /**
   * A Prometheus counter of the adapter's own (`name` must start with `parley_`; a `network` label
   * is added), e.g. the XMPP adapter's crash notices. The same name gives the same counter. Absent in some tests.
   */
  counter?(name: string, help: string): { inc(n?: number): void };
  /**
   * The adapter's peer answers again after it was found unreachable (e.g. the homeserver is back):
   * the core retries now what waits on a backoff for this network, instead of at the next step of
   * the backoff (up to `delivery.retry.capMs`). Cheap to call; calls within a few seconds of each
   * other run once. Absent in some tests.
   */
  peerAnswersAgain?(): void;
  /** A bridged room refused or removed Parley (counted in `parley_room_link_failures_total{network,reason}`). Absent in some tests. */
  roomLinkFailed?(reason: RoomLinkFailure): void;
}

/** The live adapter. Every method may be called concurrently for different conversations. */
export interface Adapter {
  /** What this instance shows, when its config changes the factory's `capabilities` (e.g. email's reaction notices). */
  readonly capabilities?: AdapterCapabilities;
  /**
   * Connect to the network and begin ingress. Resolves when ready to deliver.
   * When called: once per process at gateway start, after the config section was validated.
   * Must not: acknowledge anything to the network before `ctx.accept` resolved for it (ack after
   * durability), or reject for a peer that is merely down (start, report it in `health`, retry).
   */
  start(ctx: AdapterContext): Promise<void>;
  /**
   * Stop ingress, then disconnect. Idempotent.
   * When called: at shutdown, after the delivery workers drained; also after a failed start.
   * Must not: drop events it acknowledged (they are in Redis already) or leave timers running.
   */
  stop(): Promise<void>;
  /**
   * Deliver a message to a recipient whose home is this network.
   * When called: by a delivery worker, one message of a conversation at a time, in order, and
   * again after a transient failure (use an idempotency key derived from `message.id`). With
   * `handOn`, the next message of the conversation may come as soon as this one resolved with a
   * `pending` outcome (written, not yet confirmed).
   * Must not: resolve before the network took the message (unless `pending` says so), or report
   * `delivered` for a hand-off.
   * Before `start` or after `stop` it throws a transient `DeliveryError`; every other failure it
   * learns before the network took the message is a {@link DeliveryError} with its class
   * (transient, permanent, rate-limited). A failure the network reports only later (an XMPP error
   * stanza, a DSN) goes to `ctx.accept` as a `delivery-status` event: `state: "failed"`, this
   * `message.id`, sender and recipient as in the message, and a reason whose class
   * (`failureClassOf`, classify.ts) is the failure's.
   */
  deliverMessage(message: Message, handOn?: HandOn): Promise<DeliveryOutcome>;
  /**
   * Report a delivery status to the original sender, who is on this network: a failure in the
   * network's own terms (a stanza error, a notice, a DSN), a receipt for `delivered`/`displayed`.
   * When called: by a delivery worker, for statuses the sender asked for or must hear about.
   * Must not: answer a receipt request with `relayed` (only end-to-end proof answers it).
   * Throws {@link DeliveryError} like `deliverMessage`.
   */
  deliverStatus(status: DeliveryStatus): Promise<void>;
  /**
   * Whether the network link is up, for `/readyz` and `parley doctor`.
   * When called: at any time, often. Must not: block, throw or touch the network.
   */
  health(): LinkHealth;
}

/**
 * One per network, and everything the network brings: `satisfies AdapterFactory<C>` in each
 * adapter lets the compiler prove conformance; `adapters/index.ts` lists the factories.
 */
export interface AdapterFactory<Config = unknown> {
  readonly id: NetworkId;
  readonly capabilities: AdapterCapabilities;
  /**
   * The adapter's section of the gateway config (`adapters.<id>`), with `.describe()` texts (the
   * sample config and docs are generated from them) and secrets marked with `secret()` from
   * `src/config/secret.ts` (the logger redacts them by that mark, never by a list of names).
   */
  readonly configSchema: z.ZodType<Config>;
  readonly addressing: NetworkAddressing;
  readonly docs: AdapterDocs;
  /**
   * Checks `parley doctor` runs when the config has this network's section: talk to the peer as
   * Parley would, and name each problem with its fix. Must not: change anything on the peer.
   */
  doctor?(ctx: AdapterDoctorContext, config: Config): Promise<Finding[]>;
  /** `parley <id> <name> …` subcommands (e.g. `parley matrix registration`). */
  readonly commands?: readonly AdapterCommand<Config>[];
  /** Its files and config section in the Docker deployment (`parley docker-init`). */
  readonly provisioning?: AdapterProvisioning;
  /**
   * A live adapter for a validated config section. When called: once per process at start, or by
   * tests. Must not: connect, listen or start timers (that is `start`).
   */
  create(config: Config): Adapter;
}
