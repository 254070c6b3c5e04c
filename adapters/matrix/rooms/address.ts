/**
 * How Matrix rooms are named in links (Matrix spec, "Room IDs" and "Room aliases"): `!opaque:server`
 * or `#alias:server`. The canonical address of `#team:example.org` is `team@example.org`; of a room
 * id `!abc:example.org`, `!abc@example.org`.
 */
import type { RoomAddressing } from "../../../src/adapter/rooms.js";
import { canonicalAddress, normaliseDomain } from "../../../src/model/address.js";

// eslint-disable-next-line no-control-regex -- control characters are refused
const ROOM = /^([!#])([^:\s\u0000-\u001f]{1,200}):([a-z0-9.-]+)(?::(\d{1,5}))?$/iu;

export function parseMatrixRoom(native: string): string {
  const m = ROOM.exec(native.trim());
  if (!m) throw new Error(`"${native}" is not a Matrix room id (!id:server) or alias (#alias:server)`);
  const [, sigil, local, server, port] = m;
  const host = normaliseDomain(server!);
  // Aliases are case-sensitive in the spec but compared case-insensitively by Synapse; ids are opaque.
  return `${sigil}${sigil === "#" ? local!.toLowerCase() : local}:${host}${port ? `:${port}` : ""}`;
}

export const matrixRoomAddressing: RoomAddressing = {
  parseRoom: parseMatrixRoom,
  roomAddress(native) {
    const id = parseMatrixRoom(native);
    const colon = id.indexOf(":");
    const local = id[0] === "#" ? id.slice(1, colon) : id.slice(0, colon);
    return canonicalAddress(`${local}@${id.slice(colon + 1).split(":")[0]}`);
  },
};
