/**
 * Namespaces of the everyday chat features on XMPP (issue 18), and how a message is named in a
 * one-to-one conversation: a message Parley sent carries `parley-<canonical id>`; a message the
 * XMPP user sent is known by its own stanza id, linked in the id map when it was accepted.
 */
import type { CanonicalId } from "../../../src/model/ids.js";
import { XMPP } from "../address.js";
import { canonicalFromStanzaId, stanzaIdFor } from "../ids.js";
import type { XmppRuntime } from "../stanza.js";

export const NS_REACTIONS = "urn:xmpp:reactions:0";
export const NS_RETRACT = "urn:xmpp:message-retract:1";
export const NS_REPLY = "urn:xmpp:reply:0";
export const NS_FALLBACK = "urn:xmpp:fallback:0";
export const NS_CHATSTATES = "http://jabber.org/protocol/chatstates";
export const NS_MARKERS = "urn:xmpp:chat-markers:0";
export const NS_HINTS = "urn:xmpp:hints";

/** A message the XMPP user sent, by the stanza id they gave it (XEP-0424: only one's own). */
export function ownMessage(rt: XmppRuntime, id: string, senderBare: string): Promise<CanonicalId | undefined> {
  return rt.ctx.ids.canonicalFor({ network: XMPP, kind: "message-id", id: id.slice(0, 1024), scope: senderBare });
}

/** Any message of the conversation the XMPP user refers to: one Parley sent them, or their own. */
export async function messageRef(rt: XmppRuntime, id: string, senderBare: string): Promise<CanonicalId | undefined> {
  return canonicalFromStanzaId(id) ?? ownMessage(rt, id, senderBare);
}

/** The id the XMPP user's client knows a canonical message by. */
export async function xmppIdOf(rt: XmppRuntime, id: CanonicalId): Promise<string> {
  return (await rt.ctx.ids.nativeFor(id, XMPP, "message-id"))?.id ?? stanzaIdFor(id);
}
