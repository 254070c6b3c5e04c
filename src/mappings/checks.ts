/**
 * Checks across the whole mappings file: no two things may claim the same name on one network
 * (DESIGN §1: every mapping is reversible, so a native name must lead back to one domain).
 *
 * A "claim" is a name a mapping occupies on a network: a shared domain (`networks.<n>.sharedDomains.*`),
 * or an appearance value whose key ends in `Domain` (a component or mail domain) or `prefix`
 * (a Matrix localpart prefix). The adapters own the meaning of these keys; the core only sees
 * that they must be unique per network.
 */
import { normaliseDomain } from "../model/address.js";
import type { KeyPath } from "../config/problems.js";
import { isObj, type Checker } from "./checker.js";
import type { DomainMapping, NetworkMapping } from "./types.js";

interface Claim {
  readonly owner: string;
  readonly line: number;
}

class Claims {
  private readonly byNetwork = new Map<string, Map<string, Claim>>();
  constructor(private readonly c: Checker, private readonly domains: ReadonlyMap<string, DomainMapping>) {}

  /** Record a claim of `name` on `network`; report a collision or a clash with a listed domain. */
  claim(network: string, kind: "domain" | "prefix", name: string, owner: string, path: KeyPath, ownDomain?: string): void {
    if (kind === "domain") {
      const listed = this.domains.get(name);
      if (listed && name !== ownDomain) {
        this.c.add(path, `"${name}" is a listed domain (line ${listed.source.line}); it cannot also be ${owner}`);
        return;
      }
    }
    let claims = this.byNetwork.get(network);
    if (!claims) this.byNetwork.set(network, (claims = new Map<string, Claim>()));
    const key = `${kind}:${name}`;
    const earlier = claims.get(key);
    if (earlier) {
      this.c.add(path, `${kind} "${name}" on ${network} is already ${earlier.owner} (line ${earlier.line}); it cannot also be ${owner}`);
      return;
    }
    claims.set(key, { owner, line: this.c.src.lineOf(path) });
  }
}

function domainOrUndefined(s: string): string | undefined {
  try {
    return normaliseDomain(s);
  } catch {
    return undefined;
  }
}

function claimSharedDomains(c: Checker, claims: Claims, n: NetworkMapping, networks: ReadonlyMap<string, NetworkMapping>): void {
  const shared = n.settings.sharedDomains;
  if (!isObj(shared)) return;
  for (const [foreign, value] of Object.entries(shared)) {
    const path = ["networks", n.network, "sharedDomains", foreign];
    if (foreign === n.network) c.add(path, `a network needs no shared domain for itself`);
    else if (!c.known.has(foreign)) c.add(path, `unknown network "${foreign}" (known: ${c.knownList()})`);
    else if (!networks.has(foreign)) c.add(path, `network "${foreign}" is not configured under networks:`);
    if (typeof value !== "string") continue;
    const name = domainOrUndefined(value);
    if (name === undefined) c.add(path, `"${value}" is not a valid domain name`);
    else claims.claim(n.network, "domain", name, `the shared domain for ${foreign} users`, path);
  }
}

function claimAppearances(claims: Claims, d: DomainMapping, key: string): void {
  for (const [network, appearance] of d.appearsOn) {
    for (const [field, value] of Object.entries(appearance)) {
      if (typeof value !== "string") continue;
      const path = ["domains", key, "appearsOn", network, field];
      const owner = `the appearance of ${d.domain}`;
      if (/domain$/i.test(field)) {
        const name = domainOrUndefined(value);
        if (name !== undefined) claims.claim(network, "domain", name, owner, path, d.domain);
      } else if (/prefix$/i.test(field)) {
        claims.claim(network, "prefix", value, owner, path);
      }
    }
  }
}

/** Report every name claimed twice on one network. `keys` maps each domain to the key the admin wrote. */
export function checkClaims(c: Checker, networks: ReadonlyMap<string, NetworkMapping>, domains: ReadonlyMap<string, DomainMapping>, keys: ReadonlyMap<string, string>): void {
  const claims = new Claims(c, domains);
  for (const n of networks.values()) claimSharedDomains(c, claims, n, networks);
  for (const d of domains.values()) claimAppearances(claims, d, keys.get(d.domain) ?? d.domain);
}
