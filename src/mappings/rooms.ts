/**
 * The `rooms:` section of the mappings file (issue 12, `docs/mappings.md`): named links that join
 * one native room per network into one canonical room.
 *
 * ```yaml
 * rooms:
 *   team:
 *     xmpp: team@conference.chat.example.org
 *     matrix: "#team:matrix.example.org"
 *     home: xmpp          # optional: whose form is the room's canonical address (default: the first)
 * ```
 *
 * Each native form is validated by the owning adapter's room addressing; a native room may belong
 * to one link only, and a link needs at least two networks.
 */
import type { NetworkId } from "../model/address.js";
import type { NativeRoom } from "../model/room.js";
import { linkedRoomKey } from "../model/room.js";
import { roomAddressingOf } from "../adapter/rooms.js";
import { sectionOf, type Checker } from "./checker.js";
import { RoomDirectory, type LinkedRoom } from "./room-directory.js";
import type { NetworkMapping } from "./types.js";
import { errorMessage } from "../errors/message.js";

const LINK_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;
export const ROOM_CORE_KEYS = ["home"] as const;

function nativeForm(c: Checker, name: string, net: string, value: unknown, networks: ReadonlyMap<string, NetworkMapping>): NativeRoom | undefined {
  const path = ["rooms", name, net];
  const known = c.known.get(net);
  if (!known) { c.add(path, `unknown network "${net}" (known: ${c.knownList()}, or home)`); return undefined; }
  if (!networks.has(net)) { c.add(path, `network "${net}" is not configured under networks:`); return undefined; }
  const rooms = roomAddressingOf(known.addressing);
  if (!rooms) { c.add(path, `the ${net} adapter does not bridge rooms`); return undefined; }
  if (typeof value !== "string" || value.trim() === "") { c.add(path, `must be the room's ${net} address (a string)`); return undefined; }
  try {
    return { network: known.id, id: rooms.parseRoom(value) };
  } catch (e) {
    c.add(path, errorMessage(e));
    return undefined;
  }
}

function loadLink(c: Checker, name: string, raw: unknown, networks: ReadonlyMap<string, NetworkMapping>): LinkedRoom | undefined {
  const path = ["rooms", name];
  if (!LINK_NAME.test(name)) c.add(path, "a link name is 1–64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit");
  const section = sectionOf(c, raw, path);
  if (!section) return undefined;
  const natives = new Map<NetworkId, NativeRoom>();
  let ok = LINK_NAME.test(name);
  for (const [net, value] of Object.entries(section)) {
    if ((ROOM_CORE_KEYS as readonly string[]).includes(net)) continue;
    const n = nativeForm(c, name, net, value, networks);
    if (n) natives.set(n.network, n);
    else ok = false;
  }
  const homeRaw = section.home;
  if (homeRaw !== undefined && (typeof homeRaw !== "string" || !natives.has(homeRaw as NetworkId))) {
    c.add([...path, "home"], `must name one of this link's networks (${[...natives.keys()].join(", ") || "none"})`);
    return undefined;
  }
  if (ok && natives.size < 2) { c.add(path, "a linked room joins at least two networks"); return undefined; }
  if (!ok) return undefined;
  const home = (homeRaw as NetworkId | undefined) ?? [...natives.keys()][0]!;
  const rooms = roomAddressingOf(c.known.get(home)!.addressing)!;
  let address;
  try {
    address = rooms.roomAddress(natives.get(home)!.id, networks.get(home)?.settings);
  } catch (e) {
    c.add([...path, home], `no canonical address for this room: ${errorMessage(e)}`);
    return undefined;
  }
  return { key: linkedRoomKey(name), origin: "linked", name, address, home, natives, source: { file: c.src.file, line: c.src.lineOf(path) } };
}

/** Load `rooms:`; every problem is recorded in `c`. */
export function loadRooms(c: Checker, raw: unknown, networks: ReadonlyMap<string, NetworkMapping>): RoomDirectory {
  const directory = new RoomDirectory();
  for (const [name, value] of Object.entries(sectionOf(c, raw, ["rooms"]) ?? {})) {
    const link = loadLink(c, name, value, networks);
    if (!link) continue;
    const earlier = directory.add(link);
    if (earlier) c.add(["rooms", name], `a native room of this link already belongs to link "${earlier.name}" (line ${earlier.source.line}); a room can be in one link only`);
  }
  return directory;
}
