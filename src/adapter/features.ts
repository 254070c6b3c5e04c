/**
 * Everyday chat features an adapter's network can show (issue 18), declared in
 * `AdapterCapabilities.chat`, and the optional capability for typing notices. The core never
 * sends a target what it cannot show: it drops the event, and says so in the log and the message's
 * trace (typing in its counter) (src/core/accept.ts, src/core/typing.ts). `ChatFeatures` is declared in
 * the model (`src/model/interactions.ts`) beside the events it names.
 */
import type { Endpoint } from "../model/address.js";
import type { ChatFeatures, ChatState, TypingNotice } from "../model/interactions.js";
import type { NativeRoom } from "../model/room.js";
import type { Adapter, AdapterCapabilities } from "./contract.js";

/** What a network that declares nothing can show: none of them. */
export const NO_CHAT_FEATURES: ChatFeatures = { reactions: false, retractions: false, replies: false, typing: false };

export function chatFeaturesOf(caps: AdapterCapabilities): ChatFeatures {
  return caps.chat ?? NO_CHAT_FEATURES;
}

export interface TypingDelivery {
  /**
   * Show a typing change of `notice.from` to `notice.to`, whose home is this network.
   * When called: by the core's best-effort typing relay, rate-limited per conversation, never
   * from a durable queue and never retried. Must not: create rooms or conversations only to
   * show typing, or wait for anything a message would wait for. Throws on failure (the relay
   * drops the notice and counts it).
   */
  deliverTyping(notice: TypingNotice): Promise<void>;
}

export function deliversTyping(adapter: Adapter): adapter is Adapter & TypingDelivery {
  return typeof (adapter as Partial<TypingDelivery>).deliverTyping === "function";
}

/** A typing change of `from` to show in the native room `room` (issue 18 in rooms). */
export interface RoomTypingNotice {
  readonly room: NativeRoom;
  readonly from: Endpoint;
  readonly state: ChatState;
}

export interface RoomTypingDelivery {
  /**
   * Show a member's typing change in a linked native room of this network, as their puppet.
   * When called: by the core's best-effort typing relay (as `deliverTyping`). Must not: join a
   * puppet to the room only to show typing (a puppet not in the room yet shows nothing). Throws on
   * failure (the relay drops the notice and counts it).
   */
  deliverRoomTyping(notice: RoomTypingNotice): Promise<void>;
}

export function deliversRoomTyping(adapter: Adapter): adapter is Adapter & RoomTypingDelivery {
  return typeof (adapter as Partial<RoomTypingDelivery>).deliverRoomTyping === "function";
}
