/**
 * Access rules per presentity and inbox (DESIGN §2, RFC 2779 §2.3, §5): the domain's defaults from
 * the mappings, overridden field by field by per-address rules kept in Redis (one string per
 * address, set through the admin functions). Read on every decision; nothing is cached.
 */
import { setTimeout as delay } from "node:timers/promises";
import type { RedisClient } from "../store/redis.js";
import { z } from "zod";
import { CanonicalAddressSchema, EndpointSchema, domainOf, endpointKey, type Endpoint } from "../model/address.js";
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
  /**
   * The owner's own block list (XEP-0191 on the XMPP component, the Matrix bot's `block`), kept
   * beside the admin's fields and merged into them: a blocked party is a blocked sender and a
   * politely blocked watcher (RFC 2779 2.3.5, 5.1.15, 5.4.10). The owner can add to the admin's
   * blocks, never remove one.
   */
  userBlocks: z.array(EndpointSchema).max(10_000).optional(),
});
export type AccessRulesOverride = z.infer<typeof AccessRulesOverrideSchema>;

/** KEYS[1] = expected text ("" for none) → new text ("" deletes); 1 when it was swapped. */
const COMPARE_AND_SET = `
local cur = redis.call('GET', KEYS[1]) or ''
if cur ~= ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[2]) end
return 1`;

export type PolicyVerdict = { readonly allowed: true } | { readonly allowed: false; readonly error: ParleyError };

export interface AccessPolicyOptions {
  readonly redis: RedisClient;
  /** Key prefix shared with the presence store, e.g. `parley:`. */
  readonly prefix: string;
  readonly mappings: () => DomainMappings;
  /** The key of a presentity's overrides (default `<prefix>acl:<ep>`); the presence keys' on a cluster. */
  readonly rulesKey?: (who: Endpoint) => string;
}

/**
 * Overrides are merged over the defaults; `visibility` entries merge per watcher; the owner's
 * `userBlocks` join both `blockSenders` and `politelyBlocked`.
 */
export function mergeRules(defaults: AccessRules, override: AccessRulesOverride | undefined): AccessRules {
  if (override === undefined) return defaults;
  const merged: AccessRules = { ...defaults };
  const { userBlocks, ...admin } = override;
  for (const [k, v] of Object.entries(admin) as [keyof AccessRulesOverride, unknown][]) {
    if (v !== undefined) (merged as Record<string, unknown>)[k] = v;
  }
  merged.visibility = { ...defaults.visibility, ...(override.visibility ?? {}) };
  if (userBlocks !== undefined && userBlocks.length > 0) {
    const blocked = userBlocks.map((e) => e.address);
    merged.blockSenders = [...new Set([...merged.blockSenders, ...blocked])];
    merged.politelyBlocked = [...new Set([...merged.politelyBlocked, ...blocked])];
  }
  return merged;
}

export function parseOverride(json: string | null | undefined): AccessRulesOverride | undefined {
  if (json === null || json === undefined) return undefined;
  const parsed = AccessRulesOverrideSchema.safeParse(JSON.parse(json));
  return parsed.success ? parsed.data : undefined;
}

/** Whether the override text of a watcher's rules lists `presentity` among its own blocks. */
export function blocksPresentity(watcherOverrideJson: string | null | undefined, presentity: Endpoint): boolean {
  if (watcherOverrideJson === null || watcherOverrideJson === undefined || !watcherOverrideJson.includes("userBlocks")) return false;
  return parseOverride(watcherOverrideJson)?.userBlocks?.some((e) => e.address === presentity.address) ?? false;
}

export class AccessPolicy {
  constructor(private readonly options: AccessPolicyOptions) {}

  /** Redis key of the per-address overrides. */
  rulesKey(who: Endpoint): string {
    return this.options.rulesKey?.(who) ?? `${this.options.prefix}acl:${endpointKey(who)}`;
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

  /**
   * Replace `who`'s override (an empty object removes it). Validated; throws PARLEY_INVALID_EVENT.
   * The owner's own `userBlocks` are kept unless the override names them.
   */
  async setOverride(who: Endpoint, override: unknown): Promise<AccessRulesOverride> {
    const parsed = AccessRulesOverrideSchema.safeParse(override);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ParleyError("PARLEY_INVALID_EVENT", `access rules ${issue?.path.join(".") || "(root)"}: ${issue?.message ?? "invalid"}`);
    }
    return this.edit(who, (before) => (parsed.data.userBlocks === undefined && before?.userBlocks?.length ? { ...parsed.data, userBlocks: before.userBlocks } : parsed.data));
  }

  /**
   * Read-modify-write of `who`'s override, atomic against concurrent edits (the admin and the
   * owner may change it at the same moment): compare-and-set on the stored text, retried on a
   * race. An empty result removes the key.
   */
  async edit(who: Endpoint, change: (before: AccessRulesOverride | undefined) => AccessRulesOverride): Promise<AccessRulesOverride> {
    const key = this.rulesKey(who);
    const { redis } = this.options;
    for (let attempt = 0; attempt < 50; attempt++) {
      if (attempt > 0) await delay(Math.random() * Math.min(100, 2 ** attempt));
      const raw = await redis.get(key);
      const after = change(parseOverride(raw));
      const next = Object.keys(after).length === 0 ? "" : JSON.stringify(after);
      if ((await redis.eval(COMPARE_AND_SET, 1, key, raw ?? "", next)) === 1) return after;
    }
    throw new ParleyError("PARLEY_UNAVAILABLE", "access rules are being changed by someone else; try again");
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
