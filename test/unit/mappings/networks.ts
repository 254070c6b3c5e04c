/**
 * Networks for mappings tests: the test-double addressing with schemas shaped like the agreed
 * per-network sections (team brief), so the loader is tested before the real adapters land.
 * `realOrDouble()` prefers each real `adapters/<net>/address.ts` once it exists.
 */
import { existsSync } from "node:fs";
import { z } from "zod";
import type { NetworkAddressing } from "../../../src/adapter/contract.js";
import type { AddressClaim } from "../../../src/adapter/declarations.js";
import { asNetworkId, canonicalAddress, domainOf, localOf } from "../../../src/model/address.js";
import { ParleyError } from "../../../src/errors/parley-error.js";
import type { DomainMappings } from "../../../src/mappings/types.js";
import type { KnownNetwork } from "../../../src/mappings/load.js";
import { testDoubleAddressing } from "../../support/test-double-adapter.js";

const domain = z.string().min(1);

type Section = Readonly<Record<string, unknown>>;
/** Claims of the string value of `key`, as the real adapters declare them. */
const claimOf = (kind: AddressClaim["kind"], key: string) => (s: Section): AddressClaim[] => (typeof s[key] === "string" ? [{ kind, name: s[key], key }] : []);
const none = () => [];

const shapes: Record<string, Pick<NetworkAddressing, "networkSettingsSchema" | "appearanceSchema" | "settingsClaims" | "appearanceClaims">> = {
  xmpp: { networkSettingsSchema: z.strictObject({}), appearanceSchema: z.strictObject({ componentDomain: domain }), settingsClaims: none, appearanceClaims: claimOf("domain", "componentDomain") },
  matrix: {
    networkSettingsSchema: z.strictObject({ serverName: domain, puppetPrefix: z.string().default("_parley_"), botLocalpart: z.string().default("parley") }),
    appearanceSchema: z.strictObject({ prefix: z.string().regex(/^_[a-z0-9_]+_$/) }),
    settingsClaims: claimOf("prefix", "puppetPrefix"),
    appearanceClaims: claimOf("prefix", "prefix"),
  },
  email: { networkSettingsSchema: z.strictObject({}), appearanceSchema: z.strictObject({ mailDomain: domain }), settingsClaims: none, appearanceClaims: claimOf("domain", "mailDomain") },
};

/** Stand-in room names: `#room:server` or `room@server`, lower-cased (the real ones are in adapters/). */
const standInRooms = {
  parseRoom: (native: string) => native.trim().toLowerCase(),
  roomAddress: (native: string) => canonicalAddress(native.trim().toLowerCase().replace(/^[#!]/, "").replace(/:(?=[^:@]+$)/, "@")),
};

/** Test-double addressing for `id` with the agreed section shapes (and stand-in room names). */
export function shapedAddressing(id: string): NetworkAddressing {
  const shape = shapes[id];
  const base = { ...testDoubleAddressing(asNetworkId(id)), rooms: standInRooms };
  return shape ? { ...base, ...shape } : base;
}

export const NETWORK_IDS = ["xmpp", "matrix", "email"] as const;

/** The three networks with test-double addressing. */
export function shapedNetworks(ids: readonly string[] = NETWORK_IDS): KnownNetwork[] {
  return ids.map((id) => ({ id: asNetworkId(id), addressing: shapedAddressing(id) }));
}

/** Which real addressing modules exist in this checkout (adapters/<net>/address.ts). */
export function realAddressingAvailable(): string[] {
  return NETWORK_IDS.filter((id) => existsSync(new URL(`../../../adapters/${id}/address.ts`, import.meta.url)));
}

const XEP0106 = new Map([[" ", "\\20"], ['"', "\\22"], ["&", "\\26"], ["'", "\\27"], ["/", "\\2f"], [":", "\\3a"], ["<", "\\3c"], [">", "\\3e"], ["@", "\\40"], ["\\", "\\5c"]]);
const XEP0106_BACK = new Map([...XEP0106].map(([k, v]) => [v, k]));

/**
 * A stand-in for adapters/xmpp/address.ts until it lands, following the agreed forms (team brief):
 * XEP-0106 §4 escaping, own component domain per `appearsOn.xmpp.componentDomain`, else the shared
 * component domain of the foreign network. Tests switch to the real one as soon as it exists.
 */
export function xmppStandIn(): NetworkAddressing {
  const xmpp = asNetworkId("xmpp");
  const esc = (s: string) => [...s].map((c) => XEP0106.get(c) ?? c).join("");
  const unesc = (s: string) => s.replace(/\\(20|22|26|27|2f|3a|3c|3e|40|5c)/g, (m) => XEP0106_BACK.get(m) ?? m);
  const shared = (m: DomainMappings) => m.networks.get(xmpp)?.sharedDomains ?? {};
  return {
    ...shapedAddressing("xmpp"),
    toNative(who, m) {
      if (who.network === xmpp) return who.address;
      const listed = m.domains.get(domainOf(who.address));
      const component = listed?.home === who.network ? (listed.appearsOn.get(xmpp)?.componentDomain as string | undefined) : undefined;
      if (component) return `${esc(localOf(who.address))}@${component}`;
      const gw = shared(m)[who.network];
      if (!gw) throw new ParleyError("PARLEY_ADDRESS_UNKNOWN", `no XMPP form for ${who.network} users`);
      return `${esc(who.address)}@${gw}`;
    },
    fromNative(native, m) {
      const at = native.lastIndexOf("@");
      const local = native.slice(0, at);
      const domain = native.slice(at + 1);
      const net = Object.entries(shared(m)).find(([, d]) => d === domain)?.[0];
      if (net) return { address: canonicalAddress(unesc(local)), network: asNetworkId(net) };
      for (const d of m.domains.values()) {
        if (d.appearsOn.get(xmpp)?.componentDomain === domain) return { address: canonicalAddress(`${unesc(local)}@${d.domain}`), network: d.home };
      }
      return { address: canonicalAddress(native), network: xmpp };
    },
  };
}

interface AddressModule { readonly [name: string]: unknown }
const isAddressing = (v: unknown): v is NetworkAddressing =>
  typeof v === "object" && v !== null && "toNative" in v && "fromNative" in v && "networkSettingsSchema" in v && "appearanceSchema" in v;

/**
 * The best addressing for each network: the real adapters/<net>/address.ts where it exists, else
 * the stand-in (XMPP) or the shaped test double. Also says which networks used real addressing.
 */
export async function bestNetworks(): Promise<{ networks: KnownNetwork[]; real: string[] }> {
  const real = realAddressingAvailable();
  const networks: KnownNetwork[] = [];
  for (const id of NETWORK_IDS) {
    let addressing: NetworkAddressing | undefined;
    if (real.includes(id)) {
      const mod = (await import(`../../../adapters/${id}/address.ts`)) as AddressModule;
      addressing = Object.values(mod).find(isAddressing);
    }
    networks.push({ id: asNetworkId(id), addressing: addressing ?? (id === "xmpp" ? xmppStandIn() : shapedAddressing(id)) });
  }
  return { networks, real: real.filter((id) => networks.find((n) => n.id === id)?.addressing !== undefined) };
}
