/**
 * Networks for the loader's unit tests: test-double addressing with strict schemas shaped like the
 * real per-network sections, so the loader's own rules are tested apart from any adapter. Tests of
 * what an admin sees (`parley resolve`, `config check`, the examples) use the real networks
 * (test/support/networks.ts).
 */
import { z } from "zod";
import type { NetworkAddressing } from "../../../src/adapter/contract.js";
import type { AddressClaim } from "../../../src/adapter/declarations.js";
import { asNetworkId, canonicalAddress } from "../../../src/model/address.js";
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
