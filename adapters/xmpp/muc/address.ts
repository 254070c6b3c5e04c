/**
 * How MUC rooms are named (XEP-0045 §4.1): a room is a bare JID `room@service`; its canonical
 * address is that JID (lower-cased, RFC 7622 case-folding of the parts Parley compares).
 */
import type { RoomAddressing } from "../../../src/adapter/rooms.js";
import { canonicalAddress, normaliseDomain } from "../../../src/model/address.js";

/** XEP-0045 room names: no resource, no spaces or the characters RFC 7622 forbids in a localpart. */
// eslint-disable-next-line no-control-regex -- control characters are refused
const ROOM_LOCAL = /^[^\s"&'/:<>@\u0000-\u001f\u007f]{1,1023}$/u;

export function parseMucRoom(native: string): string {
  const jid = native.trim();
  if (jid.includes("/")) throw new Error(`"${jid}" has a resource: a MUC room is a bare JID room@service`);
  const at = jid.indexOf("@");
  if (at <= 0 || at !== jid.lastIndexOf("@")) throw new Error(`"${jid}" is not a MUC room JID of the form room@service`);
  const local = jid.slice(0, at).toLowerCase();
  if (!ROOM_LOCAL.test(local)) throw new Error(`"${jid}": the room name has characters a JID localpart cannot have`);
  return `${local}@${normaliseDomain(jid.slice(at + 1))}`;
}

export const mucRoomAddressing: RoomAddressing = {
  parseRoom: parseMucRoom,
  roomAddress: (native) => canonicalAddress(parseMucRoom(native)),
};
