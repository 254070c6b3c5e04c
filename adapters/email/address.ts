/**
 * Addressing on the `email` network (DESIGN §1; RFC 2779 2.1.4, T-2.1.4). Pure and reversible.
 *
 * - A mailbox whose home is email is its own address: `carol@example.org`.
 * - A foreign user appears in a mail domain routed to Parley:
 *   - `alice@chat.example.org` when the domain lists `appearsOn.email.mailDomain` (the same string
 *     when mailDomain is the domain itself);
 *   - otherwise the shared form `alice=chat.example.org@xmpp.gw.example.org`, in the mail domain
 *     `networks.email.sharedDomains.<network>`.
 * - Local parts are escaped so any canonical local part fits an RFC 5321 §4.1.2 dot-string:
 *   every byte outside `A-Z a-z 0-9 ! # $ % & ' * + - / ? ^ _ ` { | } ~` and `.`, plus `=` itself,
 *   and a `.` that would be first, last or doubled, becomes `=hh` (lower-case hex of the UTF-8
 *   byte, as Matrix's mapping does). The shared form's separator is the last `=`: a domain never
 *   holds `=`, so the split is unambiguous.
 * - Case is kept as written (RFC 5321 §2.4: local parts are case-sensitive); domains are lower-case.
 * - Local parts up to 255 octets are produced (longer than RFC 5321's 64-octet minimum, which
 *   Postfix accepts); beyond that the address is refused as invalid.
 */
import { z } from "zod";
import type { NetworkAddressingWithRooms } from "../../src/adapter/rooms.js";
import { listRoomAddressing } from "./list/address.js";
import {
  asNetworkId, canonicalAddress, DomainNameSchema, domainOf, localOf, normaliseDomain, type Endpoint, type NetworkId,
} from "../../src/model/address.js";
import type { DomainMappings } from "../../src/mappings/types.js";
import { ParleyError } from "../../src/errors/parley-error.js";
import { errorMessage } from "../../src/errors/message.js";

export const EMAIL: NetworkId = asNetworkId("email");
/** Extension namespace carrying email-only facts the core never reads. */
export const EMAIL_EXT = "urn:parley:email";
export const MAX_EMAIL_LOCAL_OCTETS = 255;


/** `networks.email`: nothing of its own; the shared mail domain per foreign network is the core's `sharedDomains`. */
export const EmailNetworkSettingsSchema = z.object({});

/** `domains.<d>.appearsOn.email`: the mail domain the admin routes to Parley for this domain's users. */
export const EmailAppearanceSchema = z.object({ mailDomain: DomainNameSchema }).loose();
export type EmailAppearance = z.infer<typeof EmailAppearanceSchema>;

const ATEXT = /^[A-Za-z0-9!#$%&'*+\-/?^_`{|}~]$/;

/** Escape a canonical local part for use as an email local part (see module comment). */
export function escapeLocal(local: string): string {
  const bytes = Buffer.from(local, "utf8");
  let out = "";
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    const ch = String.fromCharCode(b);
    const dotOk = ch === "." && i > 0 && i < bytes.length - 1 && !out.endsWith(".");
    out += b < 0x80 && (ATEXT.test(ch) || dotOk) ? ch : `=${b.toString(16).padStart(2, "0")}`;
  }
  return out;
}

/** Reverse {@link escapeLocal}; throws on a malformed escape or invalid UTF-8. */
export function unescapeLocal(escaped: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < escaped.length; i++) {
    const ch = escaped[i]!;
    if (ch === "=") {
      const hex = escaped.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw new ParleyError("PARLEY_ADDRESS_INVALID", `bad escape "=${hex}" in "${escaped}"`);
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(ch.charCodeAt(0) & 0xff);
    }
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(bytes));
  } catch {
    throw new ParleyError("PARLEY_ADDRESS_INVALID", `"${escaped}" does not decode to UTF-8`);
  }
}

/** `networks.email.sharedDomains`: the shared mail domain per foreign network. */
function sharedDomainsOf(m: DomainMappings): Readonly<Record<string, string>> {
  return m.networks.get(EMAIL)?.sharedDomains ?? {};
}

function appearanceOf(m: DomainMappings, domain: string): EmailAppearance | undefined {
  const raw = m.domains.get(domain)?.appearsOn.get(EMAIL);
  return raw === undefined ? undefined : EmailAppearanceSchema.parse(raw);
}

function checkLength(local: string, native: string): string {
  if (Buffer.byteLength(local) > MAX_EMAIL_LOCAL_OCTETS) {
    throw new ParleyError("PARLEY_ADDRESS_INVALID", `local part of ${native} is longer than ${MAX_EMAIL_LOCAL_OCTETS} octets`);
  }
  return native;
}

/** How `who` appears as an email address. */
export function toNative(who: Endpoint, m: DomainMappings): string {
  if (who.network === EMAIL) return who.address;
  const domain = domainOf(who.address);
  const local = escapeLocal(localOf(who.address));
  const listed = m.domains.get(domain);
  const appearance = listed?.home === who.network ? appearanceOf(m, domain) : undefined;
  if (appearance) return checkLength(local, `${local}@${appearance.mailDomain}`);
  const shared = sharedDomainsOf(m)[who.network];
  if (shared === undefined) throw new ParleyError("PARLEY_ADDRESS_UNKNOWN", `no email form for ${who.network} users (networks.email.sharedDomains.${who.network})`);
  const sharedLocal = `${local}=${domain}`;
  return checkLength(sharedLocal, `${sharedLocal}@${shared}`);
}

/** The listed domain whose users appear under `mailDomain`, if any. */
function domainAppearingAs(m: DomainMappings, mailDomain: string): { domain: string; home: NetworkId } | undefined {
  for (const [domain, d] of m.domains) {
    if (d.home === EMAIL) continue;
    const a = appearanceOf(m, domain);
    if (a?.mailDomain === mailDomain) return { domain, home: d.home };
  }
  return undefined;
}

function parseNative(native: string): { local: string; domain: string } {
  const bare = native.trim().replace(/^mailto:/i, "").replace(/^<(.*)>$/, "$1");
  const at = bare.lastIndexOf("@");
  if (at <= 0 || at === bare.length - 1) throw new ParleyError("PARLEY_ADDRESS_INVALID", `"${native}" is not an email address`);
  try {
    return { local: bare.slice(0, at), domain: normaliseDomain(bare.slice(at + 1)) };
  } catch (e) {
    throw new ParleyError("PARLEY_ADDRESS_INVALID", errorMessage(e));
  }
}

function canonical(address: string, network: NetworkId): Endpoint {
  try {
    return { address: canonicalAddress(address), network };
  } catch (e) {
    throw new ParleyError("PARLEY_ADDRESS_INVALID", errorMessage(e));
  }
}

/** The endpoint behind an email address. */
export function fromNative(native: string, m: DomainMappings): Endpoint {
  const { local, domain } = parseNative(native);
  if (Buffer.byteLength(local) > MAX_EMAIL_LOCAL_OCTETS) throw new ParleyError("PARLEY_ADDRESS_INVALID", `local part of ${native} is too long`);
  const sharedFor = Object.entries(sharedDomainsOf(m)).find(([, d]) => d === domain);
  if (sharedFor) {
    const sep = local.lastIndexOf("=");
    if (sep <= 0 || sep === local.length - 1) throw new ParleyError("PARLEY_ADDRESS_INVALID", `"${native}" lacks the =domain of a ${sharedFor[0]} user`);
    return canonical(`${unescapeLocal(local.slice(0, sep))}@${local.slice(sep + 1)}`, asNetworkId(sharedFor[0]));
  }
  const appearing = domainAppearingAs(m, domain);
  if (appearing) return canonical(`${unescapeLocal(local)}@${appearing.domain}`, appearing.home);
  const listed = m.domains.get(domain);
  if (listed && listed.home !== EMAIL) throw new ParleyError("PARLEY_ADDRESS_UNKNOWN", `${domain} is a ${listed.home} domain with no email appearance`);
  return canonical(`${local}@${domain}`, EMAIL);
}

export const emailAddressing: NetworkAddressingWithRooms = {
  rooms: listRoomAddressing,
  networkSettingsSchema: EmailNetworkSettingsSchema,
  appearanceSchema: EmailAppearanceSchema,
  toNative,
  fromNative,
  settingsClaims: () => [],
  appearanceClaims: (a) => (typeof a.mailDomain === "string" ? [{ kind: "domain", name: a.mailDomain, key: "mailDomain" }] : []),
};
