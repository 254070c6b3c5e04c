/**
 * Open rooms, Matrix side (issue 12; docs/rooms.md "Open rooms"): pure, reversible functions between a
 * foreign room (for XMPP, a MUC room JID) and an alias in Parley's exclusive alias namespace:
 * `#<puppetPrefix><network>_<escaped room address>:<serverName>`, e.g.
 * `#_parley_xmpp_lounge=40conference.chat.example.org:matrix.example.org`.
 *
 * The escaping is the puppets' (`escapeLocal`), so only the canonical form parses back and every
 * foreign room has exactly one alias. Network ids never contain `_`, so the first `_` after the
 * prefix ends the network name. The registration claims the namespace (registration.ts) and the
 * application service answers alias queries with it (open.ts).
 */
import { escapeLocal, unescapeLocal } from "../address.js";
import type { NetworkId } from "../../../src/model/address.js";

export interface OpenAliasSettings {
  readonly puppetPrefix: string;
  readonly serverName: string;
}

export interface OpenRoomRef {
  readonly network: NetworkId;
  /** The room's address as its own network writes it (a MUC room JID for XMPP). */
  readonly room: string;
}

/** The alias under which Matrix users reach a foreign room. */
export function openRoomAlias(ref: OpenRoomRef, s: OpenAliasSettings): string {
  return `#${s.puppetPrefix}${ref.network}_${escapeLocal(ref.room)}:${s.serverName}`;
}

/** The foreign room an alias names; undefined for any alias outside the namespace or not canonical. */
export function parseOpenRoomAlias(alias: string, s: OpenAliasSettings): OpenRoomRef | undefined {
  const m = /^#([^:]+):(.+)$/.exec(alias);
  if (!m || m[2]!.toLowerCase() !== s.serverName.toLowerCase()) return undefined;
  const local = m[1]!;
  if (!local.startsWith(s.puppetPrefix)) return undefined;
  const rest = local.slice(s.puppetPrefix.length);
  const cut = rest.indexOf("_");
  if (cut <= 0) return undefined;
  const network = rest.slice(0, cut);
  if (!/^[a-z][a-z0-9-]{0,31}$/.test(network)) return undefined;
  const room = unescapeLocal(rest.slice(cut + 1));
  return room === undefined || room === "" ? undefined : { network: network as NetworkId, room };
}
