/** Access rules per presentity and inbox (DESIGN §2, RFC 2779 §2.3, §5). */
import { z } from "zod";
import { CanonicalAddressSchema } from "./address.js";

/** What a watcher is shown: everything, only OPEN/CLOSED, or CLOSED always (polite blocking). */
export const VisibilitySchema = z.enum(["full", "basic", "closed"]);
export type Visibility = z.infer<typeof VisibilitySchema>;

export const SubscribePolicySchema = z.enum(["anyone", "same-domain", "allow-list", "approval"]);
export type SubscribePolicy = z.infer<typeof SubscribePolicySchema>;

export const AccessRulesSchema = z.object({
  /** Who may subscribe without asking (others wait for approval unless blocked). */
  subscribe: SubscribePolicySchema.default("approval"),
  allow: z.array(CanonicalAddressSchema).default([]),
  /** Blocked watchers: their requests get no answer and create nothing (RFC 2779 5.1.13). */
  blockSubscribers: z.array(CanonicalAddressSchema).default([]),
  /** Watchers told "approved" who only ever see CLOSED (RFC 2779 5.1.15). */
  politelyBlocked: z.array(CanonicalAddressSchema).default([]),
  /** Per-watcher visibility; watchers not listed get `defaultVisibility`. */
  visibility: z.record(z.string(), VisibilitySchema).default({}),
  defaultVisibility: VisibilitySchema.default("full"),
  allowUnauthenticatedSubscribers: z.boolean().default(false),
  /** Senders whose messages to this inbox are refused with a neutral error (RFC 2779 2.3.5, 5.4.10). */
  blockSenders: z.array(CanonicalAddressSchema).default([]),
});
export type AccessRules = z.infer<typeof AccessRulesSchema>;
