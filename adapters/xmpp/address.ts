/**
 * XMPP addressing (DESIGN §1; RFC 2779 2.1.4, T-2.1.4): pure, reversible functions between
 * endpoints and JIDs (RFC 7622).
 *
 * - A user whose home is XMPP is their own bare JID in prepared form: `alice@chat.example.org`.
 * - A foreign user of a listed domain with `appearsOn.xmpp.componentDomain: D` is `local@D` (the
 *   very same string when D is the domain itself); any other foreign user is the shared form
 *   `escaped(local@domain)@<networks.xmpp.sharedDomains.<network>>`.
 * - Escaping (XEP-0106 §4, extended for case): the ten XEP-0106 characters
 *   (space " & ' / : < > @ \) become `\hh`, and so does every byte of a character PRECIS would
 *   change in a localpart (upper case, compatibility forms, combining marks, controls, spaces) —
 *   so that `Carol@example.org` and `carol@example.org`, distinct on email, stay distinct on
 *   XMPP, whose localparts are case-insensitive (RFC 7622 §3.3, UsernameCaseMapped). `\` is
 *   always escaped (XEP-0106 decoders read `\5c` as `\` wherever it stands). Hex digits are lower case.
 * - JIDs are compared in prepared form: localpart lower-cased and NFC-normalised (an approximation
 *   of PRECIS UsernameCaseMapped that agrees with it on every string this module produces),
 *   domain lower-case ASCII (IDNA A-labels). Only the canonical escaped form maps back; anything
 *   else is refused, so every endpoint has exactly one JID.
 * - Lengths: canonical local parts are ≤ 255 bytes and domains ≤ 253, so the escaped shared form is
 *   at most 3·255 + 3 + 253 = 1021 bytes, inside RFC 7622 §3.3.1's 1023.
 */
import { z } from "zod";
import type { NetworkAddressingWithRooms } from "../../src/adapter/rooms.js";
import { mucRoomAddressing } from "./muc/address.js";
import { ParleyError } from "../../src/errors/parley-error.js";
import type { DomainMappings } from "../../src/mappings/types.js";
import {
  asNetworkId, canonicalAddress, DomainNameSchema, domainOf, localOf, normaliseDomain, type Endpoint, type NetworkId,
} from "../../src/model/address.js";
import { errorMessage } from "../../src/errors/message.js";

export const XMPP: NetworkId = asNetworkId("xmpp");
/** RFC 7622 §3.3.1 / §3.2.1: localpart and domainpart limits in bytes. */
export const MAX_JID_PART_BYTES = 1023;


/** `networks.xmpp`: nothing of its own; the shared component domain per foreign network is the core's `sharedDomains`. */
export const XmppNetworkSettingsSchema = z.object({});

/** `domains.<d>.appearsOn.xmpp`: the component domain under which this domain's users appear. */
export const XmppAppearanceSchema = z.object({ componentDomain: DomainNameSchema }).loose();
export type XmppAppearance = z.infer<typeof XmppAppearanceSchema>;

/** The ten characters XEP-0106 §4 escapes. */
export const XEP0106_CHARS = [" ", '"', "&", "'", "/", ":", "<", ">", "@", "\\"] as const;
const XEP0106_SET = new Set<string>(XEP0106_CHARS);

/** True when a character may stand literally in an escaped localpart. */
function literalOk(c: string): boolean {
  if (XEP0106_SET.has(c)) return false;
  const code = c.codePointAt(0)!;
  if (code < 0x80) return code > 0x20 && code < 0x7f && !(c >= "A" && c <= "Z");
  return c.toLowerCase() === c && c.normalize("NFKC") === c && !/[\p{M}\p{C}\p{Z}]/u.test(c);
}

/** Escape a foreign local part (or whole address) for use as a JID localpart (see module comment). */
export function escapeLocal(s: string): string {
  let out = "";
  for (const c of s) {
    if (literalOk(c)) out += c;
    else for (const b of Buffer.from(c, "utf8")) out += `\\${b.toString(16).padStart(2, "0")}`;
  }
  return out;
}

/** Reverse {@link escapeLocal}; undefined for anything that is not its canonical output. */
export function unescapeLocal(s: string): string | undefined {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; ) {
    const c = String.fromCodePoint(s.codePointAt(i)!);
    if (c === "\\") {
      const hex = s.slice(i + 1, i + 3);
      if (!/^[0-9a-f]{2}$/.test(hex)) return undefined;
      bytes.push(parseInt(hex, 16));
      i += 3;
    } else {
      for (const b of Buffer.from(c, "utf8")) bytes.push(b);
      i += c.length;
    }
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(bytes));
  } catch {
    return undefined;
  }
  return escapeLocal(text) === s ? text : undefined;
}

/** Prepared form of a localpart (approximates RFC 8265 UsernameCaseMapped: case fold, NFC). */
export function prepLocal(local: string): string {
  return local.normalize("NFC").toLowerCase();
}

export interface BareJid {
  readonly local: string;
  readonly domain: string;
}

/**
 * Split a JID into prepared localpart and domain; the resource, if any, is dropped (RFC 7622 §3.1:
 * the first `/` starts the resourcepart, and the last `@` before it ends the localpart).
 */
export function parseJid(jid: string): BareJid & { readonly resource: string | undefined } {
  const slash = jid.indexOf("/");
  const bare = slash < 0 ? jid : jid.slice(0, slash);
  const resource = slash < 0 ? undefined : jid.slice(slash + 1);
  const at = bare.indexOf("@");
  const local = at < 0 ? "" : bare.slice(0, at);
  const rawDomain = at < 0 ? bare : bare.slice(at + 1);
  let domain: string;
  try {
    domain = normaliseDomain(rawDomain);
  } catch (e) {
    throw new ParleyError("PARLEY_ADDRESS_INVALID", `"${jid}" has an invalid domain: ${errorMessage(e)}`);
  }
  if (at === 0 || Buffer.byteLength(local) > MAX_JID_PART_BYTES || (resource !== undefined && (resource === "" || Buffer.byteLength(resource) > MAX_JID_PART_BYTES))) {
    throw new ParleyError("PARLEY_ADDRESS_INVALID", `"${jid}" is not a valid JID`);
  }
  // eslint-disable-next-line no-control-regex -- RFC 7622 §3.3: no spaces or controls in a localpart
  if (/[\s\u0000-\u001f\u007f"&'/:<>@]/.test(local)) throw new ParleyError("PARLEY_ADDRESS_INVALID", `"${jid}" has a forbidden character in its localpart`);
  return { local: prepLocal(local), domain, resource };
}

/** `networks.xmpp.sharedDomains`: the shared component domain per foreign network. */
export function sharedDomainsOf(m: DomainMappings): Readonly<Record<string, string>> {
  return m.networks.get(XMPP)?.sharedDomains ?? {};
}

function appearanceOf(m: DomainMappings, domain: string): XmppAppearance | undefined {
  const raw = m.domains.get(domain)?.appearsOn.get(XMPP);
  if (raw === undefined) return undefined;
  const parsed = XmppAppearanceSchema.safeParse(raw);
  if (!parsed.success) throw new ParleyError("PARLEY_CONFIG_INVALID", `domains.${domain}.appearsOn.xmpp: ${parsed.error.message}`);
  return parsed.data;
}

/** Every component domain the mappings give Parley on XMPP (own appearances and shared forms). */
export function componentDomains(m: DomainMappings): string[] {
  const out = new Set<string>(Object.values(sharedDomainsOf(m)));
  for (const d of m.domains.values()) {
    if (d.home === XMPP) continue;
    const a = appearanceOf(m, d.domain);
    if (a) out.add(a.componentDomain);
  }
  return [...out].sort();
}

function checked(jid: string): string {
  const at = jid.lastIndexOf("@");
  if (Buffer.byteLength(jid.slice(0, at)) > MAX_JID_PART_BYTES) throw new ParleyError("PARLEY_ADDRESS_INVALID", "the escaped localpart is longer than 1023 bytes");
  return jid;
}

/** How `who` appears on XMPP: their own JID when XMPP is their home, else a puppet JID. */
export function toNative(who: Endpoint, m: DomainMappings): string {
  if (who.network === XMPP) return `${prepLocal(localOf(who.address))}@${domainOf(who.address)}`;
  const domain = domainOf(who.address);
  const listed = m.domains.get(domain);
  const appearance = listed?.home === who.network ? appearanceOf(m, domain) : undefined;
  if (appearance) return checked(`${escapeLocal(localOf(who.address))}@${appearance.componentDomain}`);
  const shared = sharedDomainsOf(m)[who.network];
  if (shared === undefined) throw new ParleyError("PARLEY_ADDRESS_UNKNOWN", `no XMPP form for ${who.network} users (networks.xmpp.sharedDomains.${who.network})`);
  return checked(`${escapeLocal(who.address)}@${shared}`);
}

function canonical(address: string, network: NetworkId): Endpoint {
  try {
    return { address: canonicalAddress(address), network };
  } catch (e) {
    throw new ParleyError("PARLEY_ADDRESS_INVALID", errorMessage(e));
  }
}

function unescaped(local: string, jid: string): string {
  const text = unescapeLocal(local);
  if (text === undefined) throw new ParleyError("PARLEY_ADDRESS_UNKNOWN", `"${jid}" is not a canonical escaped JID (XEP-0106)`);
  return text;
}

/** The endpoint behind a JID (its resource, if any, ignored). */
export function fromNative(native: string, m: DomainMappings): Endpoint {
  const { local, domain } = parseJid(native);
  if (local === "") throw new ParleyError("PARLEY_ADDRESS_UNKNOWN", `"${native}" names a server, not a user`);
  const sharedFor = Object.entries(sharedDomainsOf(m)).find(([, d]) => d === domain);
  if (sharedFor) {
    const who = canonical(unescaped(local, native), asNetworkId(sharedFor[0]));
    const listed = m.domains.get(domainOf(who.address));
    // A listed domain of another home, or one with its own component, has no shared form.
    if (listed && (listed.home !== who.network || appearanceOf(m, listed.domain) !== undefined)) {
      throw new ParleyError("PARLEY_ADDRESS_UNKNOWN", `${native} is not how ${who.address} appears on XMPP`);
    }
    if (who.network === XMPP) throw new ParleyError("PARLEY_ADDRESS_UNKNOWN", `${native}: XMPP users are not bridged to XMPP`);
    return who;
  }
  for (const d of m.domains.values()) {
    if (d.home !== XMPP && appearanceOf(m, d.domain)?.componentDomain === domain) {
      return canonical(`${unescaped(local, native)}@${d.domain}`, d.home);
    }
  }
  const listed = m.domains.get(domain);
  if (listed && listed.home !== XMPP) throw new ParleyError("PARLEY_ADDRESS_UNKNOWN", `${domain} is a ${listed.home} domain with no XMPP appearance of that name`);
  return canonical(`${local}@${domain}`, XMPP);
}

/**
 * Whether open federation lets an unlisted domain of `who.network` be reached from XMPP
 * (DESIGN §1: `networks.<net>.federation.outbound`, allow and deny lists). Listed domains are
 * always addressable here; their own policy is the core's.
 */
export function sharedFormAllowed(who: Endpoint, m: DomainMappings): boolean {
  const domain = domainOf(who.address);
  if (m.domains.has(domain)) return true;
  const fed = m.networks.get(who.network)?.federation;
  if (!fed) return false;
  if (fed.denyDomains.includes(domain)) return false;
  if (fed.allowDomains.length > 0 && !fed.allowDomains.includes(domain)) return false;
  return fed.outbound === "allow";
}

export const xmppAddressing: NetworkAddressingWithRooms = {
  rooms: mucRoomAddressing,
  networkSettingsSchema: XmppNetworkSettingsSchema,
  appearanceSchema: XmppAppearanceSchema,
  toNative,
  fromNative,
  settingsClaims: () => [],
  appearanceClaims: (a) => (typeof a.componentDomain === "string" ? [{ kind: "domain", name: a.componentDomain, key: "componentDomain" }] : []),
};
