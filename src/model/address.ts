/**
 * Canonical addresses (DESIGN §1). A person is `local@domain` as their home network names them;
 * `im:` names their inbox and `pres:` their presence (RFC 3860 §3.2, RFC 3859 §3.2).
 *
 * An {@link Endpoint} is an address together with the network that is its home. For a domain the
 * admin lists, the mappings decide the network; for an unlisted one, the native form it arrived in
 * does (DESIGN §1, shared forms), which is why the network travels with the address.
 */
import { domainToASCII } from "node:url";
import { z } from "zod";
import { errorMessage } from "../errors/message.js";

declare const addressBrand: unique symbol;
/** `local@domain`, domain in lower-case ASCII (IDNA A-labels), local part as the home network spells it. */
export type CanonicalAddress = string & { readonly [addressBrand]: true };

declare const networkBrand: unique symbol;
/** The id of a network Parley joins (an adapter id): the only way the core refers to a protocol. */
export type NetworkId = string & { readonly [networkBrand]: true };

export const MAX_LOCALPART_BYTES = 255;
export const MAX_DOMAIN_BYTES = 253;
const DOMAIN_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

export function asNetworkId(id: string): NetworkId {
  if (!/^[a-z][a-z0-9-]{0,31}$/.test(id)) throw new Error(`network id "${id}" must be lower-case letters, digits and dashes`);
  return id as NetworkId;
}

/** Normalise a domain to lower-case ASCII; throws a message naming the problem. */
export function normaliseDomain(domain: string): string {
  const ascii = domainToASCII(domain.trim().replace(/\.$/, ""));
  if (ascii === "") throw new Error(`"${domain}" is not a valid domain name`);
  if (ascii.length > MAX_DOMAIN_BYTES) throw new Error(`domain "${domain}" is longer than ${MAX_DOMAIN_BYTES} bytes`);
  for (const label of ascii.split(".")) {
    if (!DOMAIN_LABEL.test(label)) throw new Error(`domain "${domain}" has an invalid label "${label}"`);
  }
  return ascii;
}

export interface ParsedAddress {
  readonly local: string;
  readonly domain: string;
}

/**
 * Parse `local@domain` (an optional `im:`/`pres:`/`mailto:` scheme is dropped). The split is at the
 * last `@`, so a local part may itself hold `@` only when the home network allows it (email quoted
 * local parts are not supported and are refused).
 */
export function parseAddress(input: string): ParsedAddress {
  const bare = input.trim().replace(/^(im|pres|mailto):/i, "");
  const at = bare.lastIndexOf("@");
  if (at <= 0 || at === bare.length - 1) throw new Error(`"${input}" is not an address of the form local@domain`);
  const local = bare.slice(0, at);
  if (Buffer.byteLength(local) > MAX_LOCALPART_BYTES) throw new Error(`local part of "${input}" is longer than ${MAX_LOCALPART_BYTES} bytes`);
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  if (/[\s\u0000-\u001f\u007f]/.test(local)) throw new Error(`local part of "${input}" contains white space or control characters`);
  return { local, domain: normaliseDomain(bare.slice(at + 1)) };
}

export function formatAddress(parsed: ParsedAddress): CanonicalAddress {
  return `${parsed.local}@${parsed.domain}` as CanonicalAddress;
}

/** Parse and normalise an address string into its canonical form. */
export function canonicalAddress(input: string): CanonicalAddress {
  return formatAddress(parseAddress(input));
}

export function domainOf(address: CanonicalAddress): string {
  return address.slice(address.lastIndexOf("@") + 1);
}

export function localOf(address: CanonicalAddress): string {
  return address.slice(0, address.lastIndexOf("@"));
}

export const CanonicalAddressSchema = z.string().transform((s, ctx) => {
  try {
    return canonicalAddress(s);
  } catch (e) {
    ctx.addIssue({ code: "custom", message: errorMessage(e) });
    return z.NEVER;
  }
});

/** A domain name, normalised to lower-case ASCII (IDNA A-labels); the error says what is wrong. */
export const DomainNameSchema = z.string().transform((s, ctx) => {
  try {
    return normaliseDomain(s);
  } catch (e) {
    ctx.addIssue({ code: "custom", message: errorMessage(e) });
    return z.NEVER;
  }
});

export const NetworkIdSchema = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,31}$/, "must be lower-case letters, digits and dashes")
  .transform((s) => s as NetworkId);

/** An address and its home network. */
export interface Endpoint {
  readonly address: CanonicalAddress;
  readonly network: NetworkId;
}

export const EndpointSchema = z.object({ address: CanonicalAddressSchema, network: NetworkIdSchema });

export function endpoint(address: string, network: string): Endpoint {
  return { address: canonicalAddress(address), network: asNetworkId(network) };
}

export function sameEndpoint(a: Endpoint, b: Endpoint): boolean {
  return a.address === b.address && a.network === b.network;
}

/** A stable text key for an endpoint, e.g. for Redis keys and job ids (`network/address`). */
export function endpointKey(e: Endpoint): string {
  return `${e.network}/${e.address}`;
}
