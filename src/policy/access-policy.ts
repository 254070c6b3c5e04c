/**
 * Access rules per presentity and inbox (DESIGN §2, RFC 2779 §2.3, §5): the domain's defaults from
 * the mappings, overridden field by field by per-address rules kept in Redis (one string per
 * address, set through the admin functions). Read on every decision; nothing is cached.
 */
import type { Redis } from "ioredis";
import { z } from "zod";
import { CanonicalAddressSchema, domainOf, endpointKey, type Endpoint } from "../model/address.js";
import { SubscribePolicySchema, VisibilitySchema, type AccessRules } from "../model/access.js";
import type { DomainMappings } from "../mappings/types.js";
import { ParleyError } from "../errors/parley-error.js";
import { maySend } from "./decide.js";

/** Per-address overrides: any subset of the rules; a field given replaces the domain default. */
export const AccessRulesOverrideSchema = z.strictObject({
  subscribe: SubscribePolicySchema.optional(),
  allow: z.array(CanonicalAddressSchema).max(10_000).optional(),
  blockSubscribers: z.array(CanonicalAddressSchema).max(10_000).optional(),
  politelyBlocked: z.array(CanonicalAddressSchema).max(10_000).optional(),
  visibility: z.record(z.string(), VisibilitySchema).optional(),
  defaultVisibility: VisibilitySchema.optional(),
  allowUnauthenticatedSubscribers: z.boolean().optional(),
  blockSenders: z.array(CanonicalAddressSchema).max(10_000).optional(),
});
export type AccessRulesOverride = z.infer<typeof AccessRulesOverrideSchema>;

export type PolicyVerdict = { readonly allowed: true } | { readonly allowed: false; readonly error: ParleyError };

export interface AccessPolicyOptions {
  readonly redis: Redis;
  /** Key prefix shared with the presence store, e.g. `parley:`. */
  readonly prefix: string;
  readonly mappings: () => DomainMappings;
}

/** Overrides are merged over the defaults; `visibility` entries merge per watcher. */
export function mergeRules(defaults: AccessRules, override: AccessRulesOverride | undefined): AccessRules {
  if (override === undefined) return defaults;
  const merged: AccessRules = { ...defaults };
  for (const [k, v] of Object.entries(override) as [keyof AccessRulesOverride, unknown][]) {
    if (v !== undefined) (merged as Record<string, unknown>)[k] = v;
  }
  merged.visibility = { ...defaults.visibility, ...(override.visibility ?? {}) };
  return merged;
}

export function parseOverride(json: string | null | undefined): AccessRulesOverride | undefined {
  if (json === null || json === undefined) return undefined;
  const parsed = AccessRulesOverrideSchema.safeParse(JSON.parse(json));
  return parsed.success ? parsed.data : undefined;
}

export class AccessPolicy {
  constructor(private readonly options: AccessPolicyOptions) {}

  /** Redis key of the per-address overrides. */
  rulesKey(who: Endpoint): string {
    return `${this.options.prefix}acl:${endpointKey(who)}`;
  }

  /** The domain's defaults (DomainPolicy.access), or the default policy's for unlisted domains. */
  domainDefaults(who: Endpoint): AccessRules {
    const mappings = this.options.mappings();
    return (mappings.domains.get(domainOf(who.address))?.policy ?? mappings.defaultPolicy).access;
  }

  /** The rules in force for `who`: defaults merged with the override stored under {@link rulesKey}. */
  resolve(who: Endpoint, overrideJson: string | null | undefined): AccessRules {
    return mergeRules(this.domainDefaults(who), parseOverride(overrideJson));
  }

  async rulesFor(who: Endpoint): Promise<AccessRules> {
    return this.resolve(who, await this.options.redis.get(this.rulesKey(who)));
  }

  async overrideFor(who: Endpoint): Promise<AccessRulesOverride | undefined> {
    return parseOverride(await this.options.redis.get(this.rulesKey(who)));
  }

  /** Replace `who`'s override (an empty object removes it). Validated; throws PARLEY_INVALID_EVENT. */
  async setOverride(who: Endpoint, override: unknown): Promise<AccessRulesOverride> {
    const parsed = AccessRulesOverrideSchema.safeParse(override);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ParleyError("PARLEY_INVALID_EVENT", `access rules ${issue?.path.join(".") || "(root)"}: ${issue?.message ?? "invalid"}`);
    }
    if (Object.keys(parsed.data).length === 0) await this.options.redis.del(this.rulesKey(who));
    else await this.options.redis.set(this.rulesKey(who), JSON.stringify(parsed.data));
    return parsed.data;
  }

  /**
   * Inbox block lists, one per address and shared by all networks (RFC 2779 2.3.5, 5.4.10). The
   * refusal is neutral: it says "policy", never "blocked".
   */
  async mayMessage(from: Endpoint, to: Endpoint): Promise<PolicyVerdict> {
    const rules = await this.rulesFor(to);
    if (maySend(rules, from)) return { allowed: true };
    return { allowed: false, error: new ParleyError("PARLEY_REFUSED") };
  }
}
