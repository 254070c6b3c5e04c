/**
 * Build a DomainMappings in code, for tests that do not need the YAML loader.
 * Network sections are passed as plain objects (each adapter's own schema decides their shape).
 */
import { defaultPolicy } from "../../src/mappings/schema.js";
import { asNetworkId, type NetworkId } from "../../src/model/address.js";
import type { DomainMapping, DomainMappings, DomainPolicy, FederationPolicy, NetworkMapping } from "../../src/mappings/types.js";

export interface TestMappingsSpec {
  /** `settings.sharedDomains` is taken as the core's `sharedDomains` (as the YAML loader does). */
  networks: Record<string, { settings?: Record<string, unknown>; sharedDomains?: Record<string, string>; enabled?: boolean; federation?: Partial<FederationPolicy> }>;
  domains: Record<string, { home: string; appearsOn?: Record<string, Record<string, unknown>>; policy?: Partial<DomainPolicy> }>;
  defaultPolicy?: Partial<DomainPolicy>;
}

/** The loader's built-in policy (src/mappings/schema.ts), with a test's overrides. */
export function testPolicy(overrides: Partial<DomainPolicy> = {}): DomainPolicy {
  return { ...defaultPolicy(), ...overrides };
}

export function testMappings(spec: TestMappingsSpec): DomainMappings {
  const source = { file: "<test>", line: 0 };
  const networks = new Map<NetworkId, NetworkMapping>();
  for (const [id, n] of Object.entries(spec.networks)) {
    const { sharedDomains, ...settings } = n.settings ?? {};
    networks.set(asNetworkId(id), {
      network: asNetworkId(id),
      enabled: n.enabled ?? true,
      sharedDomains: n.sharedDomains ?? (sharedDomains as Record<string, string> | undefined) ?? {},
      settings,
      federation: { inbound: "allow", outbound: "allow", allowDomains: [], denyDomains: [], ...n.federation },
      source,
    });
  }
  const domains = new Map<string, DomainMapping>();
  for (const [domain, d] of Object.entries(spec.domains)) {
    domains.set(domain, {
      domain,
      home: asNetworkId(d.home),
      appearsOn: new Map(Object.entries(d.appearsOn ?? {}).map(([k, v]) => [asNetworkId(k), v])),
      policy: testPolicy(d.policy),
      source,
    });
  }
  return { networks, domains, defaultPolicy: testPolicy(spec.defaultPolicy) };
}
