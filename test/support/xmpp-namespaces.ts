/**
 * XMPP namespaces the tests write and read stanzas with, spelt from the XEPs themselves (not
 * imported from the adapter, so a typo there fails a test instead of passing it).
 */
export const NS_MUC = "http://jabber.org/protocol/muc";
export const NS_REACTIONS = "urn:xmpp:reactions:0";
export const NS_RETRACT = "urn:xmpp:message-retract:1";
export const NS_REPLY = "urn:xmpp:reply:0";
export const NS_CORRECT = "urn:xmpp:message-correct:0";
export const NS_CHATSTATES = "http://jabber.org/protocol/chatstates";
export const NS_MARKERS = "urn:xmpp:chat-markers:0";
export const NS_BLOCKING = "urn:xmpp:blocking";
