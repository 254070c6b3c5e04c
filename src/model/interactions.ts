/**
 * Everyday chat features beside plain messages (issue 18): reactions (XEP-0444, Matrix
 * `m.reaction`), retractions (XEP-0424, Matrix redactions) and typing (XEP-0085 chat states,
 * Matrix `m.typing`). Replies are a message's `inReplyTo`; read markers are the `displayed`
 * DeliveryStatus.
 *
 * A reaction or a retraction travels as a {@link Message} carrying `reaction` or `retracts`, so it
 * shares the message's route, policy, dedupe, id map and the conversation's order (a retraction
 * never overtakes the message it retracts). Typing is state, not a message: it never enters the
 * durable queues (see `src/core/typing.ts`).
 */
import { z } from "zod";
import { CanonicalIdSchema } from "./ids.js";
import type { Endpoint } from "./address.js";
import type { Authentication } from "./common.js";
import type { NativeRoom } from "./room.js";

/**
 * One reaction key added or removed by the message's sender on the message `target`. A person may
 * hold several keys on one message; each change is one event. `key` is an emoji or short text.
 */
export const ReactionSchema = z.object({
  target: CanonicalIdSchema,
  key: z.string().min(1).max(64),
  op: z.enum(["add", "remove"]),
});
export type Reaction = z.infer<typeof ReactionSchema>;

/** XEP-0085's five chat states; Matrix shows `composing` as typing and the rest as not typing. */
export const ChatStateSchema = z.enum(["composing", "paused", "active", "inactive", "gone"]);
export type ChatState = z.infer<typeof ChatStateSchema>;

/** Whether a chat state shows as "typing" on a network with only typing on/off. */
export const isTyping = (state: ChatState): boolean => state === "composing";

/** A typing change of `from` in the one-to-one conversation with `to` (best effort, never stored). */
export interface TypingNotice {
  readonly from: Endpoint;
  readonly to: Endpoint;
  readonly state: ChatState;
}

/** A typing change from an adapter, as handed to `ctx.accept`. */
export interface TypingEvent extends TypingNotice {
  readonly kind: "typing";
  readonly authenticatedBy: Authentication;
}

/**
 * A typing change of a member in a bridged room (issue 18 in rooms): `room` is the native room the
 * adapter saw it in; the core shows it in every other native room of the canonical room.
 */
export interface RoomTypingEvent {
  readonly kind: "room-typing";
  readonly room: NativeRoom;
  readonly from: Endpoint;
  readonly state: ChatState;
  readonly authenticatedBy: Authentication;
}

/** Which everyday chat features a network shows (`AdapterCapabilities.chat`, src/adapter/features.ts). */
export interface ChatFeatures {
  /** Reactions by key on a message (XEP-0444, Matrix `m.reaction`). */
  readonly reactions: boolean;
  /** Retracting one's own earlier message (XEP-0424, Matrix redaction). */
  readonly retractions: boolean;
  /** Replies that point at the message replied to (XEP-0461, `m.in_reply_to`, `In-Reply-To`). */
  readonly replies: boolean;
  /** Typing notifications (XEP-0085, `m.typing`). */
  readonly typing: boolean;
  /** Read markers of members in bridged rooms (XEP-0333 in groupchat, `m.read` in a room); absent: none. */
  readonly roomReadMarkers?: boolean;
}

export type ChatFeature = keyof ChatFeatures;

/** The interaction a message carries beyond its content, named as in `ChatFeatures`. */
export function interactionOf(m: { readonly reaction?: Reaction | undefined; readonly retracts?: unknown }): ChatFeature | undefined {
  if (m.reaction !== undefined) return "reactions";
  if (m.retracts !== undefined) return "retractions";
  return undefined;
}
