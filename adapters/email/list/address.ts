/** A linked room's list address (RFC 2369 `List-Post`): a plain mailbox, domain lower-cased. */
import type { RoomAddressing } from "../../../src/adapter/rooms.js";
import { canonicalAddress } from "../../../src/model/address.js";

export function parseListAddress(native: string): string {
  const address = canonicalAddress(native.replace(/^mailto:/i, ""));
  if (address.includes('"') || address.split("@").length !== 2) throw new Error(`"${native}" is not a plain list address local@domain`);
  return address;
}

export const listRoomAddressing: RoomAddressing = {
  parseRoom: parseListAddress,
  roomAddress: (native) => canonicalAddress(parseListAddress(native)),
};
