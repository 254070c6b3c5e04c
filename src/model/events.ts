/** The events that cross the boundary between adapters and the core. */
import type { Message } from "./message.js";
import type { Presence } from "./presence.js";
import type { SubscriptionRequest } from "./subscription.js";
import type { DeliveryStatus } from "./delivery-status.js";
import type { Endpoint } from "./address.js";
import type { Authentication } from "./common.js";
import type { RoomEvent } from "./room-events.js";
import type { RoomTypingEvent, TypingEvent } from "./interactions.js";

export interface MessageEvent {
  readonly kind: "message";
  readonly message: Message;
  /**
   * The copies of one native message its sender addressed to several recipients at once (an email
   * with five recipients: five canonical messages) carry the same value, unique to that sending;
   * the shared rate limits count them as one message (src/limits/ingress-limits.ts). Absent: the
   * message is a sending of its own.
   */
  readonly submission?: string;
}

export interface PresenceEvent {
  readonly kind: "presence";
  readonly presence: Presence;
  /** How the adapter proved the presence is the presentity's own (RFC 2779 2.3.4, 5.2.4). */
  readonly authenticatedBy: Authentication;
}

/** A request for the current presence of a presentity (an XMPP probe, a fetch). */
export interface PresenceProbeEvent {
  readonly kind: "presence-probe";
  readonly watcher: Endpoint;
  readonly presentity: Endpoint;
  readonly authenticatedBy: Authentication;
}

export interface SubscriptionEvent {
  readonly kind: "subscription";
  readonly request: SubscriptionRequest;
}

/** A status the recipient's network reported (a receipt, a read marker, a DSN). */
export interface DeliveryStatusEvent {
  readonly kind: "delivery-status";
  readonly status: DeliveryStatus;
}

export type CanonicalEvent = MessageEvent | PresenceEvent | PresenceProbeEvent | SubscriptionEvent | DeliveryStatusEvent | RoomEvent | TypingEvent | RoomTypingEvent;
