/**
 * Checks across the whole mappings file: no two things may claim the same name on one network
 * (DESIGN §1: every mapping is reversible, so a native name must lead back to one domain).
 *
 * A "claim" is a name a mapping occupies on a network: a shared domain (`networks.<n>.sharedDomains.*`,
 * the core's own key), and whatever the network's adapter declares its settings and appearances
 * claim (`NetworkAddressing.settingsClaims` / `appearanceClaims`: a component or mail domain, a
 * Matrix localpart prefix). The adapters own the meaning of their keys; the core only sees that
 * claims must be unique per network, and that no prefix may start with another.
 */
import { normaliseDomain } from "../model/address.js";
import type { KeyPath } from "../config/problems.js";
import type { Checker } from "./checker.js";
import type { AddressClaim } from "../adapter/declarations.js";
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
    if (kind === "prefix" && this.overlaps(claims, name, owner, path, network)) return;
    claims.set(key, { owner, line: this.c.src.lineOf(path) });
  }

  /** Two prefixes where one starts the other would make the longer one's ids ambiguous. */
  private overlaps(claims: ReadonlyMap<string, Claim>, name: string, owner: string, path: KeyPath, network: string): boolean {
    for (const [key, earlier] of claims) {
      if (!key.startsWith("prefix:")) continue;
      const other = key.slice("prefix:".length);
      if (name.startsWith(other) || other.startsWith(name)) {
        this.c.add(path, `prefix "${name}" on ${network} overlaps prefix "${other}" of ${earlier.owner} (line ${earlier.line}): one starts with the other, so their ids would be ambiguous`);
        return true;
      }
    }
    return false;
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
  for (const [foreign, value] of Object.entries(n.sharedDomains)) {
    const path = ["networks", n.network, "sharedDomains", foreign];
    if (foreign === n.network) c.add(path, `a network needs no shared domain for itself`);
    else if (!c.known.has(foreign)) c.add(path, `unknown network "${foreign}" (known: ${c.knownList()})`);
    else if (!networks.has(foreign)) c.add(path, `network "${foreign}" is not configured under networks:`);
    claims.claim(n.network, "domain", value, `the shared domain for ${foreign} users`, path);
  }
}

/** Record what an adapter declares a section claims; `path` is the section's. */
function claimDeclared(c: Checker, claims: Claims, network: string, declared: readonly AddressClaim[], path: readonly string[], owner: (key: string) => string, ownDomain?: string): void {
  for (const claim of declared) {
    const at = [...path, claim.key];
    if (claim.kind === "prefix") {
      claims.claim(network, "prefix", claim.name, owner(claim.key), at);
      continue;
    }
    const name = domainOrUndefined(claim.name);
    if (name === undefined) c.add(at, `"${claim.name}" is not a valid domain name`);
    else claims.claim(network, "domain", name, owner(claim.key), at, ownDomain);
  }
}

/** Report every name claimed twice on one network. `keys` maps each domain to the key the admin wrote. */
export function checkClaims(c: Checker, networks: ReadonlyMap<string, NetworkMapping>, domains: ReadonlyMap<string, DomainMapping>, keys: ReadonlyMap<string, string>): void {
  const claims = new Claims(c, domains);
  for (const n of networks.values()) {
    claimSharedDomains(c, claims, n, networks);
    const declared = c.known.get(n.network)?.addressing.settingsClaims(n.settings) ?? [];
    claimDeclared(c, claims, n.network, declared, ["networks", n.network], (key) => `networks.${n.network}.${key}`);
  }
  for (const d of domains.values()) {
    for (const [network, appearance] of d.appearsOn) {
      const declared = c.known.get(network)?.addressing.appearanceClaims(appearance) ?? [];
      claimDeclared(c, claims, network, declared, ["domains", keys.get(d.domain) ?? d.domain, "appearsOn", network], () => `the appearance of ${d.domain}`, d.domain);
    }
  }
}
