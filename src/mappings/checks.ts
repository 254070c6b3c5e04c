/**
 * Checks across the whole mappings file: no two things may claim the same name on one network
 * (DESIGN §1: every mapping is reversible, so a native name must lead back to one domain).
 *
 * A "claim" is a name a mapping occupies on a network: a shared domain (`networks.<n>.sharedDomains.*`),
 * or an appearance value whose key ends in `Domain` (a component or mail domain) or `prefix`
 * (a Matrix localpart prefix), and a network setting whose key ends in `prefix` (Matrix
 * `puppetPrefix`). The adapters own the meaning of these keys; the core only sees that they must
 * be unique per network, and that no prefix may start with another.
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

/** Prefixes in a network's own settings (e.g. Matrix `puppetPrefix`) are claimed like appearance prefixes. */
function claimSettingPrefixes(claims: Claims, n: NetworkMapping): void {
  for (const [field, value] of Object.entries(n.settings)) {
    if (typeof value === "string" && /prefix$/i.test(field)) claims.claim(n.network, "prefix", value, `networks.${n.network}.${field}`, ["networks", n.network, field]);
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
  for (const n of networks.values()) {
    claimSharedDomains(c, claims, n, networks);
    claimSettingPrefixes(claims, n);
  }
  for (const d of domains.values()) claimAppearances(claims, d, keys.get(d.domain) ?? d.domain);
}
