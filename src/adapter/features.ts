/**
 * Everyday chat features an adapter's network can show (issue 18), declared in
 * `AdapterCapabilities.chat`, and the optional capability for typing notices. The core never
 * sends a target what it cannot show: it drops the event, and says so in the log and the message's
 * trace (typing in its counter) (src/core/accept.ts, src/core/typing.ts). `ChatFeatures` is declared in
 * the model (`src/model/interactions.ts`) beside the events it names.
 */
import type { ChatFeatures, TypingNotice } from "../model/interactions.js";
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
