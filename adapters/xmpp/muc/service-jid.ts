/**
 * Open rooms, XMPP side (issue 12; docs/rooms.md "Open rooms"): the room JID under which an XMPP
 * user will reach a room of another network through Parley acting as a XEP-0045 MUC service.
 * Pure and reversible, like the puppets' JIDs: the room's own native form (a Matrix alias
 * `#lounge:matrix.example.org` or room id `!abc:matrix.example.org`), escaped as a localpart
 * (XEP-0106 plus upper case, `escapeLocal`), at the network's shared component domain —
 * `#lounge\3amatrix.example.org@matrix.gw.example.org`.
 *
 * A room version 12 id `!<hash>` (no server part) is escaped the same way: its upper-case letters
 * become `\41`…, so `!AbC…` and `!abc…` stay two rooms.
 *
 * A room never collides with a puppet: a puppet's localpart unescapes to an address (`local@domain`,
 * so it has an `@`), a room's to `<sigil><name>:<server>` with the sigil `#` or `!`, or `!<hash>`, and no `@`.
 * Only the canonical escaped form parses back, so every room has exactly one JID. Not yet wired:
 * the MUC service itself (join presence, status 110, occupant list, groupchat, subject, leave) is
 * open work of issue 12.
 */
import type { DomainMappings } from "../../../src/mappings/types.js";
import { asNetworkId } from "../../../src/model/address.js";
import type { NativeRoom } from "../../../src/model/room.js";
import { escapeLocal, MAX_JID_PART_BYTES, parseJid, sharedDomainsOf, unescapeLocal } from "../address.js";

/**
 * `<sigil><name>:<server>`: a room as Matrix writes it (and any network whose rooms are written so),
 * or a Matrix room version 12 id `!<hash>` (MSC4291: 43 unpadded url-safe base64 characters, no server).
 */
const ROOM_FORM = /^(?:[#!][^@\s:]+:[^@\s]+|![A-Za-z0-9_-]{43})$/u;

/** The JID of a foreign room on Parley's MUC service; undefined when the network has no shared domain or the form is not a room. */
export function serviceRoomJid(room: NativeRoom, m: DomainMappings): string | undefined {
  const domain = sharedDomainsOf(m)[room.network];
  if (domain === undefined || !ROOM_FORM.test(room.id)) return undefined;
  const local = escapeLocal(room.id);
  return Buffer.byteLength(local) > MAX_JID_PART_BYTES ? undefined : `${local}@${domain}`;
}

/** The foreign room a JID names (its resource, the occupant nick, ignored); undefined for anything else. */
export function parseServiceRoomJid(jid: string, m: DomainMappings): NativeRoom | undefined {
  const slash = jid.indexOf("/");
  const bare = slash < 0 ? jid : jid.slice(0, slash);
  const at = bare.lastIndexOf("@");
  if (at <= 0) return undefined;
  // Lower case (localparts are case-insensitive; canonical escaped forms are lower case already),
  // not NFC: escapeLocal may keep a decomposed sequence literal, and NFC would change the room's name.
  const local = bare.slice(0, at).toLowerCase();
  let domain: string;
  try {
    domain = parseJid(bare).domain;
  } catch {
    return undefined;
  }
  const network = Object.entries(sharedDomainsOf(m)).find(([, d]) => d === domain)?.[0];
  const id = network === undefined ? undefined : unescapeLocal(local);
  if (network === undefined || id === undefined || !ROOM_FORM.test(id)) return undefined;
  return { network: asNetworkId(network), id };
}
