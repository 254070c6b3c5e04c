/**
 * The core's part of the mappings file (`docs/mappings.md`): every key that is not a network's
 * own section. Network sections (`networks.<id>` minus `enabled`/`federation`, and
 * `domains.<d>.appearsOn.<id>`) are validated by the owning adapter's schemas in `load.ts`.
 */
import { z } from "zod";
import { AccessRulesSchema, type AccessRules } from "../model/access.js";
import { DomainNameSchema } from "../model/address.js";
import type { DomainPolicy } from "./types.js";

export { DomainNameSchema };

const domainList = z.array(DomainNameSchema);

/** `networks.<id>.federation`: open federation per direction (RFC 2779 2.2.1: open unless the admin says otherwise). */
export const FederationSchema = z.strictObject({
  inbound: z.enum(["allow", "deny"]).default("allow"),
  outbound: z.enum(["allow", "deny"]).default("allow"),
  allowDomains: domainList.default([]),
  denyDomains: domainList.default([]),
});

/** Keys of `networks.<id>` the core reads; the rest belongs to the network's adapter. */
export const NETWORK_CORE_KEYS = ["enabled", "federation", "sharedDomains"] as const;

/**
 * `networks.<id>.sharedDomains`: the shared form of each foreign network (DESIGN §1), one domain
 * per foreign network id under which its users of unlisted domains appear on this network (an
 * XMPP component domain, a mail subdomain). Networks whose shared form is no domain (Matrix's
 * puppet prefix) leave it empty.
 */
export const SharedDomainsSchema = z.record(z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, "a network id"), DomainNameSchema);

/** `networks.<id>` minus `sharedDomains` (parsed on its own) and the adapter's keys. */
export const NetworkCoreSchema = z.strictObject({
  enabled: z.boolean().default(true),
  federation: FederationSchema.default(() => ({ inbound: "allow" as const, outbound: "allow" as const, allowDomains: [], denyDomains: [] })),
});

/** Access rules as written in the file: strict (a misspelt key is an error), every key optional. */
export const AccessRulesInputSchema = z.strictObject(AccessRulesSchema.shape).partial();

/** Policy keys, usable under `defaults:` and in each domain (a domain's keys override the defaults). */
export const policyShape = {
  enabled: z.boolean(),
  messaging: z.boolean(),
  presence: z.boolean(),
  acceptUnauthenticated: z.boolean(),
  allowPeers: domainList,
  denyPeers: domainList,
  access: AccessRulesInputSchema,
};

export const PolicyInputSchema = z.strictObject(policyShape).partial();
export type PolicyInput = z.infer<typeof PolicyInputSchema>;

export const DomainEntrySchema = z.strictObject({
  home: z.string(),
  appearsOn: z.record(z.string(), z.unknown()).nullable().default({}),
  ...z.strictObject(policyShape).partial().shape,
});

/**
 * The built-in policy for domains nobody listed and the base of every listed domain's policy:
 * open but careful — unproved senders are refused and subscriptions wait for approval
 * (RFC 2779 5.1.3, 2.3.2).
 */
export function defaultPolicy(): DomainPolicy {
  return {
    enabled: true,
    messaging: true,
    presence: true,
    acceptUnauthenticated: false,
    allowPeers: [],
    denyPeers: [],
    access: AccessRulesSchema.parse({}),
  };
}

/** Apply the keys an admin wrote over a base policy (access rules merge key by key). */
export function mergePolicy(base: DomainPolicy, baseAccessInput: Readonly<Record<string, unknown>>, input: PolicyInput, accessInput: Readonly<Record<string, unknown>>): DomainPolicy {
  const access: AccessRules = AccessRulesSchema.parse({ ...baseAccessInput, ...accessInput });
  return {
    enabled: input.enabled ?? base.enabled,
    messaging: input.messaging ?? base.messaging,
    presence: input.presence ?? base.presence,
    acceptUnauthenticated: input.acceptUnauthenticated ?? base.acceptUnauthenticated,
    allowPeers: input.allowPeers ?? base.allowPeers,
    denyPeers: input.denyPeers ?? base.denyPeers,
    access,
  };
}
