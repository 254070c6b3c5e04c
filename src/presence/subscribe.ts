/**
 * Subscription actions (RFC 2779 §5.1; DESIGN §4): a request is answered by the presentity's own
 * network (an XMPP roster, the Matrix bridge bot) unless its access rules decide first; each
 * action is honoured only from its rightful actor; requests to an offline presentity wait and are
 * shown when it returns.
 */
import type { AcceptResult } from "../adapter/contract.js";
import { endpointKey, sameEndpoint, type Endpoint } from "../model/address.js";
import { isAuthenticated } from "../model/common.js";
import type { Subscription, SubscriptionRequest, SubscriptionState } from "../model/subscription.js";
import type { DeliveryJobSpec } from "../delivery/types.js";
import { ParleyError } from "../errors/parley-error.js";
import { decideRequest } from "../policy/decide.js";
import { notifyJob, subscriptionJob } from "./jobs.js";
import type { PresenceParts } from "./context.js";

const accepted: AcceptResult = { status: "accepted" };

/** What the watcher is told: a polite block looks exactly like an approval (5.1.15). */
export function asToldToWatcher(sub: Subscription): Subscription {
  return sub.state === "politely-blocked" ? { ...sub, state: "approved", decidedBy: "presentity" } : sub;
}

function record(req: SubscriptionRequest, state: SubscriptionState, decidedBy: Subscription["decidedBy"]): Subscription {
  return { watcher: req.watcher, presentity: req.presentity, state, decidedBy, at: req.at };
}

/** Tell the watcher the outcome and, when it may now see presence, send the current state. */
function outcomeJobs(sub: Subscription): DeliveryJobSpec[] {
  const jobs = [subscriptionJob(sub.watcher, "outcome", asToldToWatcher(sub))];
  if (sub.state === "approved" || sub.state === "politely-blocked") jobs.push(notifyJob(sub.watcher, sub.presentity));
  return jobs;
}

async function handleRequest(parts: PresenceParts, req: SubscriptionRequest): Promise<AcceptResult> {
  const rules = await parts.policy.rulesFor(req.presentity);
  const decision = decideRequest(rules, req.watcher, req.presentity, isAuthenticated(req.authenticatedBy));
  const existing = await parts.subscriptions.get(req.watcher, req.presentity);
  const log = { watcher: endpointKey(req.watcher), presentity: endpointKey(req.presentity) };
  switch (decision) {
    case "ignore":
      // 5.1.13: no answer, no record, and the sender is not told why (a neutral acknowledgement).
      parts.log.debug({ ...log, decision }, "subscription request dropped");
      return accepted;
    case "refuse-unauthenticated":
      return { status: "refused", error: new ParleyError("PARLEY_NOT_AUTHENTICATED", "the presentity accepts subscription requests only from proved senders") };
    default:
      break;
  }
  if (existing?.state === "approved" || existing?.state === "politely-blocked") {
    await parts.options.delivery.enqueue(outcomeJobs(existing));
    return accepted;
  }
  if (existing?.state === "pending") return accepted;
  if (decision === "pending") return requestPending(parts, req);
  const sub = record(req, decision === "polite" ? "politely-blocked" : "approved", "policy");
  await parts.subscriptions.put(sub);
  await parts.options.delivery.enqueue(outcomeJobs(sub));
  parts.log.info({ ...log, state: sub.state }, "subscription decided by policy");
  return accepted;
}

/**
 * A request the presentity decides: stored as pending and shown through its network now, or,
 * when it is known to be offline, the next time it comes online (RFC 2779 3.2.2).
 */
async function requestPending(parts: PresenceParts, req: SubscriptionRequest): Promise<AcceptResult> {
  const sub = record(req, "pending", undefined);
  const stored = await parts.store.get(req.presentity);
  const offline = stored !== undefined && !stored.open;
  await parts.subscriptions.put(sub, offline ? "add" : undefined);
  if (!offline) await parts.options.delivery.enqueue([subscriptionJob(req.presentity, "request", sub)]);
  parts.log.info({ watcher: endpointKey(req.watcher), presentity: endpointKey(req.presentity), deferred: offline }, "subscription request pending");
  return accepted;
}

/** The presentity came online: show it the requests that waited (RFC 2779 3.2.2, RFC 6121 §3.1.3). */
export async function showWaitingRequests(parts: PresenceParts, presentity: Endpoint): Promise<number> {
  const watchers = await parts.subscriptions.takeUnshown(presentity);
  const jobs: DeliveryJobSpec[] = [];
  for (const watcher of watchers) {
    const sub = await parts.subscriptions.get(watcher, presentity);
    if (sub?.state === "pending") jobs.push(subscriptionJob(presentity, "request", sub));
  }
  if (jobs.length > 0) await parts.options.delivery.enqueue(jobs);
  return jobs.length;
}

/** approve / deny / revoke by the presentity; cancel by the watcher (5.1.5, 5.1.7, 5.1.16). */
async function handleDecision(parts: PresenceParts, req: SubscriptionRequest): Promise<AcceptResult> {
  const existing = await parts.subscriptions.get(req.watcher, req.presentity);
  // Nothing to decide on: approving never creates a subscription the watcher did not ask for (5.1.6).
  if (existing === undefined || existing.state === "cancelled" || existing.state === "denied") return accepted;
  const active = existing.state === "approved" || existing.state === "politely-blocked";
  let next: Subscription;
  let tell: Endpoint;
  switch (req.action) {
    case "approve":
      if (existing.state !== "pending") return accepted;
      next = record(req, "approved", "presentity");
      tell = req.watcher;
      break;
    case "deny":
    case "revoke":
      next = record(req, active ? "cancelled" : "denied", "presentity");
      tell = req.watcher;
      break;
    case "cancel":
      next = record(req, "cancelled", "watcher");
      tell = req.presentity;
      break;
    default:
      return accepted;
  }
  await parts.subscriptions.put(next, "remove");
  const jobs = tell === req.watcher ? outcomeJobs(next) : [subscriptionJob(tell, "outcome", next)];
  await parts.options.delivery.enqueue(jobs);
  parts.log.info({ watcher: endpointKey(req.watcher), presentity: endpointKey(req.presentity), action: req.action, state: next.state }, "subscription changed");
  return accepted;
}

/** The one who may perform `req.action`: the watcher for request/cancel, the presentity otherwise (5.1.6, 5.1.8). */
export function rightfulActor(req: SubscriptionRequest): Endpoint {
  return req.action === "request" || req.action === "cancel" ? req.watcher : req.presentity;
}

export async function applySubscription(parts: PresenceParts, req: SubscriptionRequest): Promise<AcceptResult> {
  if (!sameEndpoint(req.actor, rightfulActor(req))) {
    parts.log.warn({ actor: endpointKey(req.actor), action: req.action, watcher: endpointKey(req.watcher), presentity: endpointKey(req.presentity) }, "subscription action from a third party refused");
    return { status: "refused", error: new ParleyError("PARLEY_NOT_AUTHENTICATED", `only the ${req.action === "request" || req.action === "cancel" ? "watcher" : "presentity"} may ${req.action} this subscription`) };
  }
  if (req.action === "request") return handleRequest(parts, req);
  if (!isAuthenticated(req.authenticatedBy)) {
    return { status: "refused", error: new ParleyError("PARLEY_NOT_AUTHENTICATED", `a subscription ${req.action} needs a proved sender`) };
  }
  return handleDecision(parts, req);
}
