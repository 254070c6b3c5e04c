/**
 * Mail has no reactions (issue 18). When the admin turns on `reactionNotices`, a reaction change
 * goes as a short plain notice that replies (`In-Reply-To`) to the message reacted to; otherwise
 * the email adapter does not declare reactions and the core drops them with a log line. A list (the
 * email side of a room) does the same: a notice mail to the members, or nothing.
 */
import type { AdapterCapabilities } from "../../src/adapter/contract.js";
import type { Reaction } from "../../src/model/interactions.js";
import type { Message } from "../../src/model/message.js";
import type { RoomMessage } from "../../src/model/room-events.js";

/** The capabilities of an email adapter whose config has `reactionNotices` as given. */
export function capabilitiesWithReactionNotices(base: AdapterCapabilities, reactionNotices: boolean): AdapterCapabilities {
  if (!reactionNotices || base.chat === undefined) return base;
  return { ...base, chat: { ...base.chat, reactions: true } };
}

/** The text of a reaction notice: to "your message" one-to-one, to "the message" in a list. */
export function reactionNoticeText(reaction: Reaction, whose: "your" | "the"): string {
  return reaction.op === "add" ? `reacted ${reaction.key} to ${whose} message` : `removed the reaction ${reaction.key} from ${whose} message`;
}

/** The notice mail's message for a reaction change; any other message unchanged. */
export function asReactionNotice(message: Message): Message {
  const reaction = message.reaction;
  if (reaction === undefined) return message;
  const { reaction: _reaction, ...rest } = message;
  return { ...rest, kind: "notice", inReplyTo: reaction.target, parts: [{ role: "text", body: reactionNoticeText(reaction, "your") }] };
}

/** The same for a room message going to a list: the notice replies to the message reacted to. */
export function asRoomReactionNotice(message: RoomMessage): RoomMessage {
  const reaction = message.reaction;
  if (reaction === undefined) return message;
  const { reaction: _reaction, ...rest } = message;
  return { ...rest, kind: "notice", inReplyTo: reaction.target, parts: [{ role: "text", body: reactionNoticeText(reaction, "the") }] };
}
