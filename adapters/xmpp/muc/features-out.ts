/**
 * Everyday chat features out to linked MUC rooms (issue 18 in rooms), sent by the acting member's
 * puppet occupant: a reaction is the puppet's whole XEP-0444 set on the message, a retraction is
 * XEP-0424 (with its fallback body) of the puppet's own earlier groupchat, a reply carries XEP-0461,
 * typing is an XEP-0085 chat state with a no-store hint, a read marker XEP-0333 `<displayed/>`. A room message is named by the id the
 * room's occupants know it by: the occupant's own id for theirs, `parley-<canonical id>` for Parley's.
 */
import type { CanonicalId } from "../../../src/model/ids.js";
import type { RoomTypingNotice } from "../../../src/adapter/features.js";
import type { RoomMessage } from "../../../src/model/room-events.js";
import { XMPP } from "../address.js";
import { xml, type XmlElement } from "../connection.js";
import { stanzaIdFor } from "../ids.js";
import type { XmppRuntime } from "../stanza.js";
import { NS_CHATSTATES, NS_FALLBACK, NS_HINTS, NS_MARKERS, NS_REACTIONS, NS_REPLY, NS_RETRACT } from "../features/refs.js";
import { RETRACT_FALLBACK, reactionSetAfter } from "../features/outbound.js";

/** The id the room's occupants know a room message by. */
export async function mucIdOf(rt: XmppRuntime, id: CanonicalId): Promise<string> {
  return (await rt.ctx.ids.nativeFor(id, XMPP, "muc-id"))?.id ?? stanzaIdFor(id);
}

/** The feature elements of a room message: the whole payload for a reaction or retraction, a reply marker otherwise. */
export async function mucFeatureChildren(rt: XmppRuntime, m: RoomMessage, puppet: string, room: string): Promise<{ children: XmlElement[]; content: boolean }> {
  if (m.reaction !== undefined) {
    const keys = await reactionSetAfter(rt, m.reaction, puppet, room);
    const reactions = xml("reactions", { xmlns: NS_REACTIONS, id: await mucIdOf(rt, m.reaction.target) }, ...keys.map((k) => xml("reaction", {}, k)));
    return { children: [reactions, xml("store", { xmlns: NS_HINTS })], content: false };
  }
  if (m.retracts !== undefined) {
    // Only the original sender retracts (checked where it came from): the target is the puppet's own groupchat.
    const retract = xml("retract", { xmlns: NS_RETRACT, id: await mucIdOf(rt, m.retracts) });
    return { children: [retract, xml("fallback", { xmlns: NS_FALLBACK, for: NS_RETRACT }), xml("body", {}, RETRACT_FALLBACK), xml("store", { xmlns: NS_HINTS })], content: false };
  }
  if (m.inReplyTo !== undefined) return { children: [xml("reply", { xmlns: NS_REPLY, id: await mucIdOf(rt, m.inReplyTo) })], content: true };
  return { children: [], content: true };
}

/** XEP-0333 in groupchat: a member displayed a room message (only when the puppet is already an occupant). */
export async function deliverMucDisplayed(rt: XmppRuntime, puppet: string, nick: string | undefined, room: string, target: CanonicalId): Promise<void> {
  if (nick === undefined) return;
  await rt.link.send(xml("message", { type: "groupchat", from: puppet, to: room }, xml("displayed", { xmlns: NS_MARKERS, id: await mucIdOf(rt, target) }), xml("store", { xmlns: NS_HINTS })));
}

/** Typing of a member whose puppet is already an occupant (a puppet never joins only to show typing). */
export async function deliverMucTyping(rt: XmppRuntime, puppet: string, nick: string | undefined, n: RoomTypingNotice): Promise<void> {
  if (nick === undefined) return;
  await rt.link.send(xml("message", { type: "groupchat", from: puppet, to: n.room.id }, xml(n.state, { xmlns: NS_CHATSTATES }), xml("no-store", { xmlns: NS_HINTS })));
}
