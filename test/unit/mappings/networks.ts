/**
 * Networks for mappings tests: the test-double addressing with schemas shaped like the agreed
 * per-network sections (team brief), so the loader is tested before the real adapters land.
 * `realOrDouble()` prefers each real `adapters/<net>/address.ts` once it exists.
 */
import { existsSync } from "node:fs";
import { z } from "zod";
import type { NetworkAddressing } from "../../../src/adapter/contract.js";
import { asNetworkId } from "../../../src/model/address.js";
import type { KnownNetwork } from "../../../src/mappings/load.js";
import { testDoubleAddressing } from "../../support/test-double-adapter.js";

const domain = z.string().min(1);
const shared = z.record(z.string(), domain);

const shapes: Record<string, { settings: z.ZodType<Record<string, unknown>>; appearance: z.ZodType<Record<string, unknown>> }> = {
  xmpp: { settings: z.strictObject({ sharedDomains: shared.default({}) }), appearance: z.strictObject({ componentDomain: domain }) },
  matrix: {
    settings: z.strictObject({ serverName: domain, puppetPrefix: z.string().default("_parley_"), botLocalpart: z.string().default("parley") }),
    appearance: z.strictObject({ prefix: z.string().regex(/^_[a-z0-9_]+_$/) }),
  },
  email: { settings: z.strictObject({ sharedDomains: shared.default({}) }), appearance: z.strictObject({ mailDomain: domain }) },
};

/** Test-double addressing for `id` with the agreed section shapes. */
export function shapedAddressing(id: string): NetworkAddressing {
  const shape = shapes[id];
  const base = testDoubleAddressing(asNetworkId(id));
  return shape ? { ...base, networkSettingsSchema: shape.settings, appearanceSchema: shape.appearance } : base;
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
