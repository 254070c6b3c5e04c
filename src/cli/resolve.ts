/**
 * `parley resolve <address> [--on NET] [--home NET] [--from ADDRESS [--from-on NET]]`: show an
 * admin how an address looks on every network and which route a message to it takes, or why none
 * does (DESIGN §1). The format is documented, with examples a test checks, in docs/mappings.md.
 */
import { canonicalAddress, domainOf, type CanonicalAddress, type Endpoint } from "../model/address.js";
import { isParleyError } from "../errors/parley-error.js";
import type { DomainMappings, DomainPolicy } from "../mappings/types.js";
import type { KnownNetwork } from "../mappings/load.js";
import { route, type RouteResult } from "../router/route.js";
import { EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, type CommandOutput } from "./config-check.js";
import { describeRoom, findLinkedRoom } from "./resolve-room.js";
import { errorMessage } from "../errors/message.js";

export interface ResolveOptions {
  readonly mappings: DomainMappings;
  readonly networks: readonly KnownNetwork[];
  /** The address is a native id on this network (e.g. an XMPP JID), not a canonical address. */
  readonly on?: string | undefined;
  /** For a canonical address of an unlisted domain: the network it lives on. */
  readonly home?: string | undefined;
  /** Show the route from this sender only (canonical, or native with `fromOn`). */
  readonly from?: string | undefined;
  readonly fromOn?: string | undefined;
}

/** An example domain nobody can list (RFC 2606 `.invalid`), standing for "any unlisted domain". */
const UNLISTED = "unlisted.invalid";

class UsageError extends Error {}

function findNetwork(options: ResolveOptions, id: string): KnownNetwork {
  const n = options.networks.find((k) => k.id === id);
  if (!n) throw new UsageError(`unknown network "${id}" (known: ${options.networks.map((k) => k.id).join(", ")})`);
  return n;
}

/** The endpoint an admin means by `input`: a native id on `on`, or a canonical address. */
function endpointOf(options: ResolveOptions, input: string, on: string | undefined, home: string | undefined): Endpoint {
  if (on !== undefined) return findNetwork(options, on).addressing.fromNative(input, options.mappings);
  let address: CanonicalAddress;
  try {
    address = canonicalAddress(input);
  } catch (e) {
    throw new UsageError(errorMessage(e));
  }
  const listed = options.mappings.domains.get(domainOf(address));
  if (listed) {
    if (home !== undefined && home !== listed.home) throw new UsageError(`${listed.domain} is listed with home ${listed.home}, not ${home}`);
    return { address, network: listed.home };
  }
  if (home === undefined) {
    throw new UsageError(`${domainOf(address)} is not a listed domain: say which network it is on with --home <network>, or give its native form with --on <network>`);
  }
  return { address, network: findNetwork(options, home).id };
}

function switches(p: DomainPolicy): string {
  const on = (b: boolean) => (b ? "on" : "off");
  return `${p.enabled ? "enabled" : "DISABLED"}, messaging ${on(p.messaging)}, presence ${on(p.presence)}`;
}

function homeLines(options: ResolveOptions, who: Endpoint): string[] {
  const m = options.mappings;
  const listed = m.domains.get(domainOf(who.address));
  const net = m.networks.get(who.network);
  const netState = !net ? " (not configured)" : net.enabled ? "" : " (network DISABLED)";
  if (listed) return [`  home        ${who.network}${netState}, listed domain ${listed.domain}`, `  policy      ${switches(listed.policy)}`];
  const f = net?.federation;
  const fed = f ? `federation of ${who.network}: inbound ${f.inbound}, outbound ${f.outbound}` : "no federation policy";
  return [`  home        ${who.network}${netState}, unlisted domain (${fed})`, `  policy      ${switches(m.defaultPolicy)} (defaults)`];
}

function appearanceLines(options: ResolveOptions, who: Endpoint): string[] {
  const out = ["  appears as"];
  // Only networks of these mappings are shown, so only they set the column (a network the
  // installation does not use must not change its output).
  const configured = options.networks.filter((n) => options.mappings.networks.has(n.id));
  const width = Math.max(0, ...configured.map((n) => n.id.length));
  for (const n of configured) {
    let shown: string;
    try {
      shown = n.addressing.toNative(who, options.mappings) + (n.id === who.network ? "   (home)" : "");
    } catch (e) {
      shown = `(none: ${isParleyError(e) ? e.message : String(e)})`;
    }
    out.push(`    ${n.id.padEnd(width)}  ${shown}`);
  }
  return out;
}

/** Why the router refused, in the mappings file's own terms (the sender never sees this). */
function explain(m: DomainMappings, details: Readonly<Record<string, unknown>>): string {
  const str = (k: string) => (typeof details[k] === "string" ? details[k] : "?");
  const rule = str("rule");
  const policyOf = (d: string) => (m.domains.has(d) ? `domains.${JSON.stringify(d)}` : "defaults");
  if (rule === "relay") return "neither side is a listed domain (Parley is not an open relay)";
  if (rule === "federation.inbound" || rule === "federation.outbound") return `networks.${str("network")}.${rule} is deny`;
  if (rule === "federation.denyDomains") return `${str("domain")} is in networks.${str("network")}.federation.denyDomains`;
  if (rule === "federation.allowDomains") return `${str("domain")} is not in networks.${str("network")}.federation.allowDomains`;
  if (rule === "denyPeers") return `${str("peer")} is in ${policyOf(str("domain"))}.denyPeers`;
  if (rule === "allowPeers") return `${str("peer")} is not in ${policyOf(str("domain"))}.allowPeers`;
  return rule;
}

function verdict(m: DomainMappings, r: RouteResult): string {
  if (r.ok) return `delivered on ${r.network}`;
  const why = r.error.code === "PARLEY_REFUSED" ? explain(m, r.error.details) : r.error.message;
  return `${r.error.code}: ${why}`;
}

function senders(options: ResolveOptions, who: Endpoint): { label: string; from: Endpoint }[] {
  const m = options.mappings;
  const list: { label: string; from: Endpoint }[] = [];
  const targetDomain = domainOf(who.address);
  for (const d of m.domains.values()) {
    if (d.domain === targetDomain) continue;
    list.push({ label: `${d.domain} (${d.home})`, from: { address: canonicalAddress(`someone@${d.domain}`), network: d.home } });
  }
  for (const id of m.networks.keys()) {
    list.push({ label: `unlisted ${id} domains`, from: { address: canonicalAddress(`someone@${UNLISTED}`), network: id } });
  }
  return list;
}

function routeLines(options: ResolveOptions, who: Endpoint, from: Endpoint | undefined): string[] {
  const m = options.mappings;
  if (from) return ["  a message to it", `    from ${from.address} (${from.network})  →  ${verdict(m, route(m, from, who, "message"))}`];
  const rows = senders(options, who);
  const width = Math.max(0, ...rows.map((r) => r.label.length));
  return ["  a message to it", ...rows.map((r) => `    from ${r.label.padEnd(width)}  →  ${verdict(m, route(m, r.from, who, "message"))}`)];
}

export function resolve(input: string, options: ResolveOptions): CommandOutput {
  const room = findLinkedRoom(input, options.mappings, options.networks, options.on);
  if (room) return describeRoom(room);
  try {
    const who = endpointOf(options, input, options.on, options.home);
    const from = options.from === undefined ? undefined : endpointOf(options, options.from, options.fromOn, undefined);
    const head = options.on !== undefined ? [`${who.address}   (${input} on ${options.on})`] : [who.address];
    return {
      exitCode: EXIT_OK,
      lines: [...head, ...homeLines(options, who), ...appearanceLines(options, who), ...routeLines(options, who, from)],
    };
  } catch (e) {
    if (e instanceof UsageError) return { exitCode: EXIT_USAGE, lines: [`parley resolve: ${e.message}`] };
    if (isParleyError(e)) return { exitCode: EXIT_PROBLEMS, lines: [`${input}: ${e.message} (${e.code})`] };
    throw e;
  }
}
