/**
 * Everyday chat features out to XMPP users (issue 18): reactions (XEP-0444, the puppet's whole
 * set on a message each time), retractions (XEP-0424 with its fallback body), replies (XEP-0461),
 * chat states (XEP-0085, with a no-store hint) and displayed markers (XEP-0333).
 */
import { DeliveryError } from "../../../src/adapter/contract.js";
import type { CanonicalId } from "../../../src/model/ids.js";
import type { Reaction, TypingNotice } from "../../../src/model/interactions.js";
import type { Message } from "../../../src/model/message.js";
import { XMPP, toNative } from "../address.js";
import { xml, type XmlElement } from "../connection.js";
import { NS_HOPS, stanzaIdFor } from "../ids.js";
import { puppetOf } from "../puppet.js";
import type { XmppRuntime } from "../stanza.js";
import { NS_CHATSTATES, NS_FALLBACK, NS_HINTS, NS_MARKERS, NS_REACTIONS, NS_REPLY, NS_RETRACT, xmppIdOf } from "./refs.js";

const REACTIONS_TTL_SECONDS = 30 * 24 * 3600;
export const RETRACT_FALLBACK = "This person attempted to retract a previous message, but it's unsupported by your client.";

function parties(rt: XmppRuntime, who: Pick<Message, "from" | "to">): { from: string; to: string } {
  if (who.to.network !== XMPP) throw new DeliveryError("permanent", "recipient-unknown", `${who.to.address} is not an XMPP user`);
  return { from: puppetOf(rt, who), to: toNative(who.to, rt.ctx.mappings()) };
}

/**
 * The puppet `from`'s reaction set on the target in `to` (a user or a room) after this change,
 * kept in adapter state: XEP-0444 sends the whole set each time.
 */
export async function reactionSetAfter(rt: XmppRuntime, r: Reaction, from: string, to: string): Promise<string[]> {
  const key = `rx-out:${from}:${to}:${r.target}`;
  const before = JSON.parse((await rt.ctx.state.get(key)) ?? "[]") as string[];
  const after = r.op === "add" ? [...before.filter((k) => k !== r.key), r.key] : before.filter((k) => k !== r.key);
  await rt.ctx.state.set(key, JSON.stringify(after), REACTIONS_TTL_SECONDS);
  return after;
}

/** The stanza for a reaction or a retraction; undefined for an ordinary message. */
export async function interactionStanza(rt: XmppRuntime, m: Message): Promise<XmlElement | undefined> {
  if (m.reaction === undefined && m.retracts === undefined) return undefined;
  const { from, to } = parties(rt, m);
  const id = stanzaIdFor(m.id);
  const el = xml("message", { type: "chat", id, from, to });
  if (m.reaction !== undefined) {
    const keys = await reactionSetAfter(rt, m.reaction, from, to);
    el.append(xml("reactions", { xmlns: NS_REACTIONS, id: await xmppIdOf(rt, m.reaction.target) }, ...keys.map((k) => xml("reaction", {}, k))));
  } else if (m.retracts !== undefined) {
    // Only the original sender retracts (checked where it came from): the target is the puppet's own stanza.
    el.append(xml("retract", { xmlns: NS_RETRACT, id: stanzaIdFor(m.retracts) }));
    el.append(xml("fallback", { xmlns: NS_FALLBACK, for: NS_RETRACT }));
    el.append(xml("body", {}, RETRACT_FALLBACK));
  }
  el.append(xml("store", { xmlns: NS_HINTS }));
  el.append(xml("hops", { xmlns: NS_HOPS }, String(m.hops)));
  return el;
}

/** XEP-0461: point a message at the one it replies to (the user's own, or one Parley sent them). */
export async function addReply(rt: XmppRuntime, inReplyTo: CanonicalId, el: XmlElement): Promise<void> {
  const own = await rt.ctx.ids.nativeFor(inReplyTo, XMPP, "message-id");
  const author = own !== undefined ? el.attrs.to : el.attrs.from;
  el.append(xml("reply", { xmlns: NS_REPLY, id: own?.id ?? stanzaIdFor(inReplyTo), to: author }));
}

/** XEP-0085 standalone notification, never stored offline or archived (XEP-0334 no-store). */
export async function deliverTyping(rt: XmppRuntime, n: TypingNotice): Promise<void> {
  const { from, to } = parties(rt, n);
  await rt.link.send(xml("message", { type: "chat", from, to }, xml(n.state, { xmlns: NS_CHATSTATES }), xml("no-store", { xmlns: NS_HINTS })));
}

/** XEP-0333 §4: the recipient displayed the XMPP user's message `id`. */
export function displayedMarker(from: string, to: string, id: string): XmlElement {
  return xml("message", { type: "chat", from, to }, xml("displayed", { xmlns: NS_MARKERS, id }), xml("store", { xmlns: NS_HINTS }));
}
