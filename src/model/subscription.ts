/** Presence subscriptions (DESIGN §2, RFC 2779 §5.1). */
import { z } from "zod";
import { EndpointSchema } from "./address.js";
import { AuthenticationSchema, TimestampSchema } from "./common.js";

export const SubscriptionStateSchema = z.enum(["pending", "approved", "denied", "politely-blocked", "cancelled"]);
export type SubscriptionState = z.infer<typeof SubscriptionStateSchema>;

export const SubscriptionSchema = z.object({
  watcher: EndpointSchema,
  presentity: EndpointSchema,
  state: SubscriptionStateSchema,
  decidedBy: z.enum(["presentity", "watcher", "policy", "admin"]).optional(),
  at: TimestampSchema,
});
export type Subscription = z.infer<typeof SubscriptionSchema>;

/**
 * What someone asked of a subscription. Each action is valid only from one side: `request` and
 * `cancel` from the watcher, `approve`, `deny` and `revoke` from the presentity (RFC 2779 5.1.6, 5.1.8).
 */
export const SubscriptionActionSchema = z.enum(["request", "cancel", "approve", "deny", "revoke"]);
export type SubscriptionAction = z.infer<typeof SubscriptionActionSchema>;

export const SubscriptionRequestSchema = z.object({
  action: SubscriptionActionSchema,
  watcher: EndpointSchema,
  presentity: EndpointSchema,
  /** Who sent this, as the adapter proved it. Must be the watcher or the presentity, per action. */
  actor: EndpointSchema,
  authenticatedBy: AuthenticationSchema,
  at: TimestampSchema,
});
export type SubscriptionRequest = z.infer<typeof SubscriptionRequestSchema>;
