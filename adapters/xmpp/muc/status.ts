/**
 * A room message of an XMPP member that failed for good (issue 12: "the sender is told"): the
 * member hears it in XMPP's form, as a chat message. A component cannot speak as the MUC room, so
 * a member known by their real JID gets it from the component's own domain; a member of a
 * semi-anonymous room, known only as `room/nick`, gets it as a private message from Parley's
 * listener occupant in that room (XEP-0045 §7.5). Both name the room, the network and why.
 */
import type { DeliveryStatus } from "../../../src/model/delivery-status.js";
import { domainOf, localOf, type CanonicalAddress } from "../../../src/model/address.js";
import { toNative, unescapeLocal } from "../address.js";
import { xml } from "../connection.js";
import type { XmppRuntime } from "../stanza.js";
import { sendConfirmed } from "../outbound.js";
import type { Occupants } from "./occupants.js";

/** The occupant JID `room/nick` an anonymous member's canonical address stands for (muc/inbound.ts occupantEndpoint), if it is one of `room`. */
function occupantJidOf(address: CanonicalAddress, room: CanonicalAddress): string | undefined {
  if (domainOf(address) !== domainOf(room)) return undefined;
  const text = unescapeLocal(localOf(address));
  const prefix = `${localOf(room)}/`;
  return text?.startsWith(prefix) ? `${room}/${text.slice(prefix.length)}` : undefined;
}

export async function roomStatusToXmpp(rt: XmppRuntime, o: Occupants, s: DeliveryStatus): Promise<void> {
  if (s.state !== "failed") return; // a room has no receipts to answer
  const room = s.recipient.address;
  const body = `⚠ ${s.text ?? `Not delivered to the room ${room}`}`;
  const occupant = occupantJidOf(s.sender.address, room);
  if (occupant !== undefined) {
    await rt.link.send(xml("message", { type: "chat", from: o.listenerJid(), to: occupant }, xml("body", {}, body), xml("x", { xmlns: "http://jabber.org/protocol/muc#user" })));
    return;
  }
  const from = [...rt.domains][0]!;
  await sendConfirmed(rt, xml("message", { type: "chat", from, to: toNative(s.sender, rt.ctx.mappings()) }, xml("body", {}, body)), domainOf(s.sender.address));
}
