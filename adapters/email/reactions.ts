/**
 * Mail has no reactions (issue 18). When the admin turns on `reactionNotices`, a reaction change
 * goes as a short plain notice that replies (`In-Reply-To`) to the message reacted to; otherwise
 * the email adapter does not declare reactions and the core drops them with a log line.
 */
import type { AdapterCapabilities } from "../../src/adapter/contract.js";
import type { Message } from "../../src/model/message.js";

/** The capabilities of an email adapter whose config has `reactionNotices` as given. */
export function capabilitiesWithReactionNotices(base: AdapterCapabilities, reactionNotices: boolean): AdapterCapabilities {
  if (!reactionNotices || base.chat === undefined) return base;
  return { ...base, chat: { ...base.chat, reactions: true } };
}

/** The notice mail's message for a reaction change; any other message unchanged. */
export function asReactionNotice(message: Message): Message {
  const reaction = message.reaction;
  if (reaction === undefined) return message;
  const { reaction: _reaction, ...rest } = message;
  const text = reaction.op === "add" ? `reacted ${reaction.key} to your message` : `removed the reaction ${reaction.key} from your message`;
  return { ...rest, kind: "notice", inReplyTo: reaction.target, parts: [{ role: "text", body: text }] };
}
