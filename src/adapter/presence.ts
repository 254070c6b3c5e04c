/**
 * Optional capabilities for networks with presence (RFC 2779 §2.1, §3): an adapter implements
 * them only when its network has presence and subscriptions. The core discovers them with the
 * guards below; a network without them (email) is never asked, and carries no no-op stubs.
 * `AdapterCapabilities.presence` / `.subscriptions` must say the same (the conformance suite checks).
 */
import type { Endpoint } from "../model/address.js";
import type { Presence } from "../model/presence.js";
import type { Subscription } from "../model/subscription.js";
import type { Adapter } from "./contract.js";

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

export interface PresenceDelivery {
  /**
   * Show a presentity's presence to a watcher whose home is this network.
   * When called: by the presence fan-out and probe workers, after access rules and the watcher's
   * projection were applied; possibly concurrently for different watchers, and again after a
   * transient failure (a newer state may replace an older one while it waits).
   * Must not: apply access rules itself, invent a state the presence does not carry, or resolve
   * before the network took the update. Throws `DeliveryError` (transient when not started).
   */
  deliverPresence(notification: PresenceNotification): Promise<void>;
}

export interface SubscriptionDelivery {
  /**
   * Tell someone here about a subscription request (the presentity must decide) or its outcome.
   * When called: by the subscription service once the core recorded the change durably.
   * Must not: decide the request on the user's behalf, or change the stored subscription (the
   * user's answer comes back through `AdapterContext.accept` as a subscription event).
   * Throws `DeliveryError` (transient when not started).
   */
  deliverSubscription(notice: SubscriptionNotice): Promise<void>;
}

/** Whether the running adapter shows presence to its users. */
export function deliversPresence(adapter: Adapter): adapter is Adapter & PresenceDelivery {
  return typeof (adapter as Partial<PresenceDelivery>).deliverPresence === "function";
}

/** Whether the running adapter carries subscription requests and outcomes to its users. */
export function deliversSubscriptions(adapter: Adapter): adapter is Adapter & SubscriptionDelivery {
  return typeof (adapter as Partial<SubscriptionDelivery>).deliverSubscription === "function";
}
