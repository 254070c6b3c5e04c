/**
 * How Matrix rooms are named in links (Matrix spec, "Room IDs" and "Room aliases"): `!opaque:server`
 * or `#alias:server`, and from room version 12 on (MSC4291) `!<hash>`, the create event's reference
 * hash as 43 unpadded url-safe base64 characters, with no server part.
 *
 * Canonical addresses (docs/rooms.md "Room addresses"): `#team:example.org` is `team@example.org`;
 * `!abc:example.org` is `!abc@example.org`; a version 12 id `!<hash>` is `!<hash>@<serverName>`, under
 * the server name of the homeserver Parley serves (`networks.matrix.serverName`), since the id names
 * no server. One address per room, and reversible: an older id's server part is the server that
 * minted it, so `!<43 base64 chars>:<serverName>` would have to be minted by Parley's own homeserver,
 * and Synapse mints 18 letters (ids of room versions 1–11 are never 43-character hashes there).
 */
import type { RoomAddressing } from "../../../src/adapter/rooms.js";
import { canonicalAddress, normaliseDomain } from "../../../src/model/address.js";

// eslint-disable-next-line no-control-regex -- control characters are refused
const ROOM = /^([!#])([^:\s\u0000-\u001f]{1,200}):([a-z0-9.-]+)(?::(\d{1,5}))?$/iu;
/** Room version 12 (MSC4291): `!` and the create event's SHA-256 reference hash, unpadded url-safe base64. */
export const V12_ROOM_ID = /^![A-Za-z0-9_-]{43}$/u;

export function parseMatrixRoom(native: string): string {
  const trimmed = native.trim();
  if (V12_ROOM_ID.test(trimmed)) return trimmed;
  const m = ROOM.exec(trimmed);
  if (!m) throw new Error(`"${native}" is not a Matrix room id (!id:server, or !<43-character hash> from room version 12) or alias (#alias:server)`);
  const [, sigil, local, server, port] = m;
  const host = normaliseDomain(server!);
  // Aliases are case-sensitive in the spec but compared case-insensitively by Synapse; ids are opaque.
  return `${sigil}${sigil === "#" ? local!.toLowerCase() : local}:${host}${port ? `:${port}` : ""}`;
}

export const matrixRoomAddressing: RoomAddressing = {
  parseRoom: parseMatrixRoom,
  roomAddress(native, settings) {
    const id = parseMatrixRoom(native);
    if (V12_ROOM_ID.test(id)) {
      const serverName = settings?.serverName;
      if (typeof serverName !== "string") throw new Error(`${id} (room version 12) names no server: its address needs networks.matrix serverName`);
      return canonicalAddress(`${id}@${normaliseDomain(serverName)}`);
    }
    const colon = id.indexOf(":");
    const local = id[0] === "#" ? id.slice(1, colon) : id.slice(0, colon);
    return canonicalAddress(`${local}@${id.slice(colon + 1).split(":")[0]}`);
  },
};
