/**
 * Pure decisions on subscription requests (RFC 2779 §5.1): who may ask, who is approved without
 * asking the presentity, who is refused, who gets no answer at all.
 */
import type { Endpoint } from "../model/address.js";
import type { AccessRules } from "../model/access.js";
import { autoApproves } from "./project.js";

/**
 * - `ignore`: a blocked watcher; no answer and no record (RFC 2779 5.1.13, XEP-0191).
 * - `refuse-unauthenticated`: the watcher is not proved and the presentity bars such requests (5.1.14).
 * - `polite`: recorded as politely blocked; the watcher is told "approved" and only sees CLOSED (5.1.15).
 * - `approve`: the rules let this watcher subscribe without asking (2.3.2).
 * - `pending`: the presentity decides, through its own network (5.1.11).
 */
export type RequestDecision = "ignore" | "refuse-unauthenticated" | "polite" | "approve" | "pending";

export function decideRequest(rules: AccessRules, watcher: Endpoint, presentity: Endpoint, authenticated: boolean): RequestDecision {
  if (rules.blockSubscribers.includes(watcher.address)) return "ignore";
  if (!authenticated && !rules.allowUnauthenticatedSubscribers) return "refuse-unauthenticated";
  if (rules.politelyBlocked.includes(watcher.address)) return "polite";
  // An unproved watcher is never approved by policy alone: the presentity sees and decides (5.1.3, 5.1.12).
  if (authenticated && autoApproves(rules, watcher, presentity)) return "approve";
  return "pending";
}

/** Whether `sender` may send IMs to the inbox governed by `rules` (RFC 2779 2.3.5, 5.4.10). */
export function maySend(rules: AccessRules, sender: Endpoint): boolean {
  return !rules.blockSenders.includes(sender.address);
}
