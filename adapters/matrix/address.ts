/**
 * Matrix addressing (DESIGN §1; RFC 2779 2.1.4): pure, reversible functions between endpoints and
 * Matrix user ids.
 *
 * - A user whose home is Matrix is their own id: `bob@matrix.example.org` ⇄ `@bob:matrix.example.org`.
 * - A foreign user is a puppet in Parley's exclusive namespace on `serverName`:
 *   - the domain's own prefix when `appearsOn.matrix.prefix` is set: `@_chat_alice:matrix.example.org`;
 *   - else the shared form naming the network: `@_parley_xmpp_alice=40chat.example.org:matrix.example.org`.
 *
 * Escaping follows the Matrix spec appendix "Mapping from other character sets": every UTF-8 byte
 * outside `a-z 0-9 . - / +` becomes `=hh` (lower-case hex). Unlike the spec's suggestion we do not
 * fold upper case into `_x`: upper-case letters are escaped as `=hh` too, so the mapping stays
 * injective without a second escape character, and `_` (=5f) is free to separate the network name.
 * Puppet localparts are therefore always lower case. Only the canonical form is accepted back
 * (`=61` for `a` is refused), so every endpoint has exactly one puppet id.
 */
import type { NetworkAddressingWithRooms } from "../../src/adapter/rooms.js";
import { matrixRoomAddressing } from "./rooms/address.js";
import { ParleyError } from "../../src/errors/parley-error.js";
import type { DomainMappings } from "../../src/mappings/types.js";
import {
  asNetworkId, canonicalAddress, domainOf, localOf, normaliseDomain, type Endpoint, type NetworkId,
} from "../../src/model/address.js";
import {
  MATRIX, MAX_USER_ID_BYTES, MatrixAppearanceSchema, MatrixNetworkSettingsSchema, type MatrixNetworkSettings,
} from "./config.js";
import { errorMessage } from "../../src/errors/message.js";

const SAFE = /[a-z0-9.\-/+]/;

/** `=hh`-escape a string (Matrix appendices, "Mapping from other character sets"). */
export function escapeLocal(s: string): string {
  let out = "";
  for (const ch of s) {
    if (SAFE.test(ch)) out += ch;
    else for (const b of Buffer.from(ch, "utf8")) out += `=${b.toString(16).padStart(2, "0")}`;
  }
  return out;
}

/** Reverse {@link escapeLocal}; undefined for anything that is not its canonical output. */
export function unescapeLocal(s: string): string | undefined {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch === "=") {
      const hex = s.slice(i + 1, i + 3);
      if (!/^[0-9a-f]{2}$/.test(hex)) return undefined;
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (SAFE.test(ch)) bytes.push(ch.charCodeAt(0));
    else return undefined;
  }
  const text = new TextDecoder("utf-8", { fatal: false }).decode(Uint8Array.from(bytes));
  return escapeLocal(text) === s ? text : undefined;
}

export interface ResolvedMatrixSettings extends MatrixNetworkSettings {
  /** Listed foreign domains with their own puppet prefix, longest prefix first. */
  readonly domainPrefixes: ReadonlyArray<{ readonly prefix: string; readonly domain: string; readonly home: NetworkId }>;
}

const cache = new WeakMap<DomainMappings, ResolvedMatrixSettings>();

/** The `networks.matrix` settings and per-domain prefixes, validated (cached per mappings object). */
export function matrixSettings(mappings: DomainMappings): ResolvedMatrixSettings {
  const hit = cache.get(mappings);
  if (hit) return hit;
  const section = mappings.networks.get(MATRIX);
  if (!section) throw new ParleyError("PARLEY_CONFIG_INVALID", "the mappings have no networks.matrix section");
  const parsed = MatrixNetworkSettingsSchema.safeParse(section.settings);
  if (!parsed.success) throw new ParleyError("PARLEY_CONFIG_INVALID", `networks.matrix: ${parsed.error.message}`);
  const domainPrefixes = [...mappings.domains.values()]
    .flatMap((d) => {
      const a = MatrixAppearanceSchema.safeParse(d.appearsOn.get(MATRIX) ?? {});
      return a.success && a.data.prefix !== undefined && d.home !== MATRIX ? [{ prefix: a.data.prefix, domain: d.domain, home: d.home }] : [];
    })
    .sort((a, b) => b.prefix.length - a.prefix.length);
  const resolved = { ...parsed.data, domainPrefixes };
  cache.set(mappings, resolved);
  return resolved;
}

function invalid(native: string, why: string): ParleyError {
  return new ParleyError("PARLEY_ADDRESS_INVALID", `${native} is not a valid Matrix address: ${why}`);
}

function checkLength(id: string): string {
  if (Buffer.byteLength(id) > MAX_USER_ID_BYTES) throw invalid(id, `longer than ${MAX_USER_ID_BYTES} bytes`);
  return id;
}

export function toNative(who: Endpoint, mappings: DomainMappings): string {
  const local = localOf(who.address);
  const domain = domainOf(who.address);
  if (who.network === MATRIX) {
    // eslint-disable-next-line no-control-regex -- Matrix appendices: historical localparts are printable ASCII without ':'
    if (/[:\s\u0000-\u001f\u007f-\uffff]/.test(local)) throw invalid(who.address, "not a Matrix localpart");
    return checkLength(`@${local}:${domain}`);
  }
  const s = matrixSettings(mappings);
  const listed = mappings.domains.get(domain);
  const own = listed && listed.home === who.network ? s.domainPrefixes.find((p) => p.domain === domain) : undefined;
  const localpart = own ? `${own.prefix}${escapeLocal(local)}` : `${s.puppetPrefix}${who.network}_${escapeLocal(who.address)}`;
  return checkLength(`@${localpart}:${s.serverName}`);
}

/** Split `@local:server`; the server must be a plain domain (ports are not canonical addresses). */
export function splitUserId(native: string): { local: string; server: string } {
  const m = /^@([^:]+):(.+)$/.exec(native);
  if (!m) throw invalid(native, "not of the form @localpart:server");
  try {
    return { local: m[1]!, server: normaliseDomain(m[2]!) };
  } catch (e) {
    throw invalid(native, errorMessage(e));
  }
}

function endpointOrInvalid(native: string, address: string, network: NetworkId): Endpoint {
  try {
    return { address: canonicalAddress(address), network };
  } catch (e) {
    throw invalid(native, errorMessage(e));
  }
}

function puppetEndpoint(native: string, local: string, s: ResolvedMatrixSettings, mappings: DomainMappings): Endpoint | undefined {
  for (const p of s.domainPrefixes) {
    if (!local.startsWith(p.prefix)) continue;
    const rest = unescapeLocal(local.slice(p.prefix.length));
    if (rest === undefined || rest === "") throw invalid(native, "bad escaping");
    return endpointOrInvalid(native, `${rest}@${p.domain}`, p.home);
  }
  if (!local.startsWith(s.puppetPrefix)) return undefined;
  const rest = local.slice(s.puppetPrefix.length);
  const sep = rest.indexOf("_");
  const address = sep > 0 ? unescapeLocal(rest.slice(sep + 1)) : undefined;
  if (sep <= 0 || address === undefined) throw invalid(native, "not a puppet id");
  let network: NetworkId;
  try {
    network = asNetworkId(rest.slice(0, sep));
  } catch (e) {
    throw invalid(native, errorMessage(e));
  }
  if (network === MATRIX) throw invalid(native, "a puppet cannot stand for a Matrix user");
  if (!mappings.networks.has(network)) throw new ParleyError("PARLEY_ADDRESS_UNKNOWN", `${native} names the network "${network}", which the mappings do not list`);
  return endpointOrInvalid(native, address, network);
}

export function fromNative(native: string, mappings: DomainMappings): Endpoint {
  const { local, server } = splitUserId(native);
  const s = mappings.networks.has(MATRIX) ? matrixSettings(mappings) : undefined;
  let result: Endpoint | undefined;
  if (s && server === s.serverName) {
    if (local === s.botLocalpart) throw new ParleyError("PARLEY_ADDRESS_UNKNOWN", `${native} is the bridge bot`);
    result = puppetEndpoint(native, local, s, mappings);
  }
  if (!result) {
    const home = mappings.domains.get(server)?.home;
    if (home !== undefined && home !== MATRIX) throw new ParleyError("PARLEY_ADDRESS_UNKNOWN", `${server} is not a Matrix domain in the mappings`);
    result = endpointOrInvalid(native, `${local}@${server}`, MATRIX);
  }
  if (toNative(result, mappings) !== native) throw invalid(native, "not the canonical form of its address");
  return result;
}

/** Whether a Matrix user id is in Parley's own namespace (a puppet or the bot): echoes are recognised by id. */
export function isOwnUser(native: string, mappings: DomainMappings): boolean {
  const s = matrixSettings(mappings);
  const m = /^@([^:]+):(.+)$/.exec(native);
  if (!m || m[2] !== s.serverName) return false;
  const local = m[1]!;
  return local === s.botLocalpart || local.startsWith(s.puppetPrefix) || s.domainPrefixes.some((p) => local.startsWith(p.prefix));
}

export function botUserId(mappings: DomainMappings): string {
  const s = matrixSettings(mappings);
  return `@${s.botLocalpart}:${s.serverName}`;
}

export const matrixAddressing = {
  rooms: matrixRoomAddressing,
  networkSettingsSchema: MatrixNetworkSettingsSchema,
  appearanceSchema: MatrixAppearanceSchema,
  toNative,
  fromNative,
  settingsClaims: (s) => (typeof s.puppetPrefix === "string" ? [{ kind: "prefix", name: s.puppetPrefix, key: "puppetPrefix" }] : []),
  appearanceClaims: (a) => (typeof a.prefix === "string" ? [{ kind: "prefix", name: a.prefix, key: "prefix" }] : []),
} satisfies NetworkAddressingWithRooms;
