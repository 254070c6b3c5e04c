/**
 * Routing: may this traffic pass, and to which network? All of the admin's routing policy is
 * applied here, in one place (DESIGN §1):
 *
 *  1. a listed domain's endpoint carries its home network, and every network is configured
 *     (else PARLEY_ADDRESS_UNKNOWN); Parley relays only for listed domains (never between two
 *     unlisted ones: no open relay);
 *  2. kill switches per network and per domain (RFC 2779 2.4.4, PARLEY_DISABLED);
 *  3. messaging and presence offered independently per domain (RFC 2779 2.1.1, PARLEY_DISABLED);
 *  4. open federation for unlisted domains per network and direction, with allow and deny lists
 *     (RFC 2779 2.2.1; inbound: the sender is unlisted, outbound: the recipient is; PARLEY_REFUSED);
 *  5. each domain's `allowPeers`/`denyPeers`, checked for the sender's and the recipient's domain
 *     (PARLEY_REFUSED, with the catalogue's neutral message: the sender is not told which rule).
 *
 * No table per domain: every check is a map or set lookup, so any number of unlisted domains
 * routes with no configuration change and no memory per domain (RFC 2779 2.1.5, 2.2.3).
 */
import { domainOf, type Endpoint, type NetworkId } from "../model/address.js";
import { ParleyError } from "../errors/parley-error.js";
import type { DomainMapping, DomainMappings, DomainPolicy, FederationPolicy } from "../mappings/types.js";

export type RouteKind = "message" | "presence" | "subscription";

export type RouteResult = { readonly ok: true; readonly network: NetworkId } | { readonly ok: false; readonly error: ParleyError };

interface Lists {
  readonly allow: ReadonlySet<string>;
  readonly deny: ReadonlySet<string>;
}

/** Sets built once per policy object (mappings are immutable once loaded). */
const federationSets = new WeakMap<FederationPolicy, Lists>();
const peerSets = new WeakMap<DomainPolicy, Lists>();

function federationLists(f: FederationPolicy): Lists {
  let l = federationSets.get(f);
  if (!l) federationSets.set(f, (l = { allow: new Set(f.allowDomains), deny: new Set(f.denyDomains) }));
  return l;
}

function peerLists(p: DomainPolicy): Lists {
  let l = peerSets.get(p);
  if (!l) peerSets.set(p, (l = { allow: new Set(p.allowPeers), deny: new Set(p.denyPeers) }));
  return l;
}

/** The listed mapping of a domain, if the admin listed it. */
export function listedDomain(mappings: DomainMappings, domain: string): DomainMapping | undefined {
  return mappings.domains.get(domain);
}

/** The policy that governs a domain: its own when listed, else the defaults for unlisted domains. */
export function policyFor(mappings: DomainMappings, domain: string): DomainPolicy {
  return mappings.domains.get(domain)?.policy ?? mappings.defaultPolicy;
}

interface Side {
  readonly endpoint: Endpoint;
  readonly domain: string;
  readonly listed: DomainMapping | undefined;
  readonly policy: DomainPolicy;
}

const fail = (error: ParleyError): RouteResult => ({ ok: false, error });
const refused = (rule: string, detail: Record<string, unknown>): RouteResult => fail(new ParleyError("PARLEY_REFUSED", undefined, { rule, ...detail }));

function side(mappings: DomainMappings, e: Endpoint): Side | ParleyError {
  const domain = domainOf(e.address);
  const listed = mappings.domains.get(domain);
  if (listed && listed.home !== e.network) {
    return new ParleyError("PARLEY_ADDRESS_UNKNOWN", `${domain} is a ${listed.home} domain: ${e.address} is not a ${e.network} user`, { address: e.address, network: e.network });
  }
  if (!mappings.networks.has(e.network)) {
    return new ParleyError("PARLEY_ADDRESS_UNKNOWN", `no network "${e.network}" is configured for ${e.address}`, { address: e.address, network: e.network });
  }
  return { endpoint: e, domain, listed, policy: listed?.policy ?? mappings.defaultPolicy };
}

function switches(mappings: DomainMappings, s: Side, kind: RouteKind): RouteResult | undefined {
  if (mappings.networks.get(s.endpoint.network)?.enabled === false) {
    return fail(new ParleyError("PARLEY_DISABLED", `the ${s.endpoint.network} network is switched off`, { network: s.endpoint.network }));
  }
  if (!s.policy.enabled) return fail(new ParleyError("PARLEY_DISABLED", `${s.domain} is switched off`, { domain: s.domain }));
  const feature = kind === "message" ? "messaging" : "presence";
  if (!s.policy[feature]) return fail(new ParleyError("PARLEY_DISABLED", `${feature} is not offered for ${s.domain}`, { domain: s.domain, feature }));
  return undefined;
}

/** Federation policy of `s`'s network for an unlisted `s`, in the given direction. */
function federation(mappings: DomainMappings, s: Side, direction: "inbound" | "outbound"): RouteResult | undefined {
  const network = mappings.networks.get(s.endpoint.network);
  if (!network) return undefined;
  const f = network.federation;
  const lists = federationLists(f);
  const detail = { network: s.endpoint.network, domain: s.domain };
  if (f[direction] === "deny") return refused(`federation.${direction}`, detail);
  if (lists.deny.has(s.domain)) return refused("federation.denyDomains", detail);
  if (lists.allow.size > 0 && !lists.allow.has(s.domain)) return refused("federation.allowDomains", detail);
  return undefined;
}

/** `owner`'s peer lists applied to the domain on the other side. */
function peers(owner: Side, other: Side): RouteResult | undefined {
  const lists = peerLists(owner.policy);
  const detail = { domain: owner.domain, peer: other.domain };
  if (lists.deny.has(other.domain)) return refused("denyPeers", detail);
  if (lists.allow.size > 0 && !lists.allow.has(other.domain)) return refused("allowPeers", detail);
  return undefined;
}

/** Decide whether `from` may reach `to` with this kind of traffic, and on which network `to` is served. */
export function route(mappings: DomainMappings, from: Endpoint, to: Endpoint, kind: RouteKind): RouteResult {
  const sender = side(mappings, from);
  if (sender instanceof ParleyError) return fail(sender);
  const recipient = side(mappings, to);
  if (recipient instanceof ParleyError) return fail(recipient);
  if (!sender.listed && !recipient.listed) return refused("relay", { from: sender.domain, to: recipient.domain });
  const refusal =
    switches(mappings, sender, kind) ??
    switches(mappings, recipient, kind) ??
    (sender.listed ? undefined : federation(mappings, sender, "inbound")) ??
    (recipient.listed ? undefined : federation(mappings, recipient, "outbound")) ??
    peers(sender, recipient) ??
    peers(recipient, sender);
  return refusal ?? { ok: true, network: to.network };
}
