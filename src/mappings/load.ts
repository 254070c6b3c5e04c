/**
 * Load and validate the admin's domain mappings (DESIGN §1, `docs/mappings.md`). Every problem
 * is reported at once as `file:line: key.path: message`; each network's own sections are
 * validated by the schemas of the adapter that owns the network.
 */
import { readFile } from "node:fs/promises";
import { normaliseDomain, type NetworkId } from "../model/address.js";
import { ConfigError, type KeyPath, type Problem } from "../config/problems.js";
import { YamlSource } from "../config/yaml-source.js";
import type { DomainMapping, DomainMappings, DomainPolicy, NetworkMapping } from "./types.js";
import {
  DomainEntrySchema, NETWORK_CORE_KEYS, NetworkCoreSchema, SharedDomainsSchema, PolicyInputSchema, defaultPolicy, mergePolicy,
} from "./schema.js";
import { checkClaims } from "./checks.js";
import { Checker, isObj, sectionOf, type KnownNetwork, type Obj } from "./checker.js";
import { loadRooms } from "./rooms.js";
import { errorMessage } from "../errors/message.js";

export type { KnownNetwork } from "./checker.js";

export class MappingsError extends ConfigError {
  constructor(problems: readonly Problem[]) {
    super(problems, "domain mappings");
    this.name = "MappingsError";
  }
}

export type MappingsResult = { readonly ok: true; readonly mappings: DomainMappings } | { readonly ok: false; readonly error: MappingsError };

function loadNetwork(c: Checker, id: string, raw: unknown): NetworkMapping | undefined {
  const path = ["networks", id];
  const known = c.known.get(id);
  if (!known) {
    c.add(path, `unknown network "${id}" (known: ${c.knownList()})`);
    return undefined;
  }
  const section = sectionOf(c, raw, path);
  if (!section) return undefined;
  const coreRaw: Obj = {};
  const rest: Obj = {};
  for (const [k, v] of Object.entries(section)) ((NETWORK_CORE_KEYS as readonly string[]).includes(k) ? coreRaw : rest)[k] = v;
  // With problems in one half, the other half is still loaded so the whole-file checks can run;
  // the problems already make the result an error.
  // Shared domains are parsed on their own, so a typo in `enabled` still leaves them checked.
  const { sharedDomains: sharedRaw, ...switches } = coreRaw;
  const core = c.parse(NetworkCoreSchema, switches, path) ?? NetworkCoreSchema.parse({});
  const sharedDomains = c.parse(SharedDomainsSchema, sharedRaw ?? {}, [...path, "sharedDomains"]) ?? {};
  const settings = c.parseSection(known.addressing.networkSettingsSchema, rest, path) ?? {};
  return { network: known.id, enabled: core.enabled, sharedDomains, settings, federation: core.federation, source: { file: c.src.file, line: c.src.lineOf(path) } };
}

interface Defaults {
  readonly policy: DomainPolicy;
  readonly accessInput: Obj;
}

function loadDefaults(c: Checker, raw: unknown): Defaults {
  const base = defaultPolicy();
  const section = sectionOf(c, raw, ["defaults"]);
  const input = section && c.parse(PolicyInputSchema, section, ["defaults"]);
  if (!section || !input) return { policy: base, accessInput: {} };
  const accessInput = isObj(section.access) ? section.access : {};
  return { policy: mergePolicy(base, {}, input, accessInput), accessInput };
}

function checkAppearances(c: Checker, path: KeyPath, home: string, appearsOn: Obj, networks: ReadonlyMap<string, NetworkMapping>): Map<NetworkId, Obj> {
  const out = new Map<NetworkId, Obj>();
  for (const [net, raw] of Object.entries(appearsOn)) {
    const p = [...path, "appearsOn", net];
    const known = c.known.get(net);
    if (!known) { c.add(p, `unknown network "${net}" (known: ${c.knownList()})`); continue; }
    if (net === home) { c.add(p, `a domain cannot have an appearance on its own home network "${home}"`); continue; }
    if (!networks.has(net)) c.add(p, `network "${net}" is not configured under networks:`);
    const section = sectionOf(c, raw, p);
    const appearance = section && c.parseSection(known.addressing.appearanceSchema, section, p);
    if (appearance) out.set(known.id, appearance);
  }
  return out;
}

function checkHome(c: Checker, path: KeyPath, home: string, networks: ReadonlyMap<string, NetworkMapping>): NetworkId | undefined {
  const known = c.known.get(home);
  if (!known) { c.add([...path, "home"], `unknown network "${home}" (known: ${c.knownList()})`); return undefined; }
  if (!networks.has(home)) { c.add([...path, "home"], `network "${home}" is not configured under networks:`); return undefined; }
  return known.id;
}

function loadDomain(c: Checker, key: string, raw: unknown, networks: ReadonlyMap<string, NetworkMapping>, defaults: Defaults): DomainMapping | undefined {
  const path = ["domains", key];
  let domain: string | undefined;
  try {
    domain = normaliseDomain(key);
  } catch (e) {
    c.add(path, errorMessage(e));
  }
  const section = sectionOf(c, raw, path);
  const entry = section && c.parse(DomainEntrySchema, section, path);
  if (!section || !entry) return undefined;
  const home = checkHome(c, path, entry.home, networks);
  const appearsOn = checkAppearances(c, path, entry.home, entry.appearsOn ?? {}, networks);
  if (domain === undefined || home === undefined) return undefined;
  const accessInput = isObj(section.access) ? section.access : {};
  const policy = mergePolicy(defaults.policy, defaults.accessInput, entry, accessInput);
  return { domain, home, appearsOn, policy, source: { file: c.src.file, line: c.src.lineOf(path) } };
}

/** Listed domains, and for each the key as the admin wrote it (for locating problems). */
interface LoadedDomains {
  readonly domains: Map<string, DomainMapping>;
  readonly keys: Map<string, string>;
}

function loadDomains(c: Checker, raw: Obj, networks: ReadonlyMap<string, NetworkMapping>, defaults: Defaults): LoadedDomains {
  const domains = new Map<string, DomainMapping>();
  const keys = new Map<string, string>();
  for (const [key, value] of Object.entries(raw)) {
    const d = loadDomain(c, key, value, networks, defaults);
    if (!d) continue;
    const earlier = domains.get(d.domain);
    if (earlier) {
      c.add(["domains", key], `domain "${d.domain}" is listed twice (first at line ${earlier.source.line})`);
      continue;
    }
    domains.set(d.domain, d);
    keys.set(d.domain, key);
  }
  return { domains, keys };
}

const TOP_KEYS = ["networks", "domains", "defaults", "rooms"];

/** Parse and validate mappings text. `file` is the name used in problems. */
export function parseMappings(text: string, file: string, known: readonly KnownNetwork[]): MappingsResult {
  const src = new YamlSource(text, file);
  if (src.syntaxProblems.length > 0) return { ok: false, error: new MappingsError(src.syntaxProblems) };
  const c = new Checker(src, new Map(known.map((n) => [n.id as string, n])));
  c.problems.push(...src.duplicateKeyProblems);
  const top = sectionOf(c, src.value, []) ?? {};
  for (const key of Object.keys(top)) if (!TOP_KEYS.includes(key)) c.add([key], `unknown key (expected ${TOP_KEYS.join(", ")})`);
  const networks = new Map<NetworkId, NetworkMapping>();
  for (const [id, raw] of Object.entries(sectionOf(c, top.networks, ["networks"]) ?? {})) {
    const n = loadNetwork(c, id, raw);
    if (n) networks.set(n.network, n);
  }
  const defaults = loadDefaults(c, top.defaults);
  const { domains, keys } = loadDomains(c, sectionOf(c, top.domains, ["domains"]) ?? {}, networks, defaults);
  checkClaims(c, networks, domains, keys);
  const rooms = loadRooms(c, top.rooms, networks);
  if (c.problems.length > 0) return { ok: false, error: new MappingsError(c.problems) };
  return { ok: true, mappings: { networks, domains, defaultPolicy: defaults.policy, rooms } };
}

/** Read and validate a mappings file. A file that cannot be read is one problem naming it. */
export async function loadMappingsFile(path: string, known: readonly KnownNetwork[]): Promise<MappingsResult> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    return { ok: false, error: new MappingsError([{ file: path, line: 0, path: [], message: `cannot read the mappings file: ${errorMessage(e)}` }]) };
  }
  return parseMappings(text, path, known);
}
