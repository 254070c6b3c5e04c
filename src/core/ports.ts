/**
 * What the accept pipeline and the delivery handler need from the rest of the core, as small
 * interfaces. `src/gateway.ts` plugs in the real router, policy, presence service and stores;
 * tests may plug in others.
 */
import type { AcceptResult, Adapter } from "../adapter/contract.js";
import type { Endpoint, NetworkId } from "../model/address.js";
import type { CanonicalId } from "../model/ids.js";
import type { PresenceEvent, PresenceProbeEvent, SubscriptionEvent } from "../model/events.js";
import type { Presence } from "../model/presence.js";
import type { Subscription } from "../model/subscription.js";
import type { DomainMappings } from "../mappings/types.js";
import type { ParleyError } from "../errors/parley-error.js";
import type { DeliveryJob } from "../delivery/types.js";

export type RouteKind = "message" | "presence" | "subscription";
export type RouteDecision = { readonly ok: true; readonly network: NetworkId } | { readonly ok: false; readonly error: ParleyError };
/** Routing through the admin's mappings (src/router). */
export type RouteFn = (mappings: DomainMappings, from: Endpoint, to: Endpoint, kind: RouteKind) => RouteDecision;

export type PolicyDecision = { readonly allowed: true } | { readonly allowed: false; readonly error: ParleyError };
/** Inbox access rules (src/policy): block lists shared by all networks. */
export interface MessagePolicy {
  mayMessage(from: Endpoint, to: Endpoint): Promise<PolicyDecision>;
}

/** Presence and subscriptions (src/presence). */
export interface PresencePort {
  publish(event: PresenceEvent, source: NetworkId): Promise<AcceptResult>;
  probe(event: PresenceProbeEvent, source: NetworkId): Promise<AcceptResult>;
  subscription(event: SubscriptionEvent, source: NetworkId): Promise<AcceptResult>;
  presenceFor(watcher: Endpoint, presentity: Endpoint): Promise<Presence | undefined>;
  subscriptionsOf(who: Endpoint, side: "watchers" | "watching"): Promise<readonly Subscription[]>;
  /** Perform a `presence` or `subscription` delivery job (reads the newest state, projects it, calls the adapter). */
  handleJob(job: DeliveryJob): Promise<void>;
}

/**
 * Inbound dedupe: claim a native id for a canonical id. Returns undefined when this call claimed
 * it (first time seen), or the canonical id that claimed it earlier (a replay).
 */
export interface InboundClaims {
  claim(nativeKey: string, canonical: CanonicalId): Promise<CanonicalId | undefined>;
  /** Undo a claim whose event could not be stored, so the source's retry is not taken for a replay. */
  release(nativeKey: string, canonical: CanonicalId): Promise<void>;
}

/** The running adapters by network. */
export type AdapterLookup = (network: NetworkId) => Adapter | undefined;
