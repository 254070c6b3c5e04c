/**
 * Presence and subscription delivery jobs (DESIGN §4). Presence jobs name only who and whom: the
 * worker reads the newest state and projects it when it runs, so a coalesced job still sends the
 * latest state. Subscription notices are events and carry what to tell.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { EndpointSchema, endpointKey, type Endpoint, type NetworkId } from "../model/address.js";
import { SubscriptionSchema, type Subscription } from "../model/subscription.js";
import { newCanonicalId } from "../model/ids.js";
import type { DeliveryJobSpec } from "../delivery/types.js";

/** A presentity changed: find its watchers and enqueue one notification each. */
export const FanoutPayloadSchema = z.object({
  op: z.literal("fanout"),
  presentity: EndpointSchema,
  /** Also re-send to watchers whose view did not change (access rules changed). */
  force: z.boolean().optional(),
});
/** Show a presentity's newest state, as projected at send time, to one watcher. */
export const NotifyPayloadSchema = z.object({ op: z.literal("notify"), watcher: EndpointSchema, presentity: EndpointSchema });
/** Show a presentity's newest state to a batch of watchers on one network (one bucket of a fan-out). */
export const BatchPayloadSchema = z.object({
  op: z.literal("batch"),
  presentity: EndpointSchema,
  /** Watchers as `endpointKey`s, all on the job's network. */
  watchers: z.array(z.string().min(3).max(1100)).max(100_000),
});
/** Answer every waiting probe of one watcher (RFC 2779 2.2.4). */
export const ProbesPayloadSchema = z.object({ op: z.literal("probes"), watcher: EndpointSchema });
export const PresenceJobPayloadSchema = z.discriminatedUnion("op", [FanoutPayloadSchema, NotifyPayloadSchema, BatchPayloadSchema, ProbesPayloadSchema]);
export type PresenceJobPayload = z.infer<typeof PresenceJobPayloadSchema>;

export const SubscriptionJobPayloadSchema = z.object({
  to: EndpointSchema,
  notice: z.enum(["request", "outcome"]),
  subscription: SubscriptionSchema,
});

/** A short, Redis- and BullMQ-safe digest of endpoint keys (job keys may not contain `:`). */
function digest(...parts: string[]): string {
  return createHash("sha256").update(parts.join("\n")).digest("base64url").slice(0, 22);
}

export function fanoutJob(presentity: Endpoint, force = false): DeliveryJobSpec {
  const payload = force ? { op: "fanout", presentity, force } : { op: "fanout", presentity };
  return { kind: "presence", network: presentity.network, key: `pf.${digest(endpointKey(presentity))}${force ? ".f" : ""}`, coalesce: true, payload };
}

/** One key per (watcher, presentity): a burst of changes coalesces into the newest state. */
export function notifyJob(watcher: Endpoint, presentity: Endpoint): DeliveryJobSpec {
  return {
    kind: "presence",
    network: watcher.network,
    key: `pn.${digest(endpointKey(watcher), endpointKey(presentity))}`,
    coalesce: true,
    payload: { op: "notify", watcher, presentity },
  };
}

/** One coalescing job per watcher answers all its waiting probes. */
export function probesJob(watcher: Endpoint): DeliveryJobSpec {
  return { kind: "presence", network: watcher.network, key: `pp.${digest(endpointKey(watcher))}`, coalesce: true, payload: { op: "probes", watcher } };
}

/** Which bucket of a fan-out a watcher is in: stable, so a coalesced batch names the same watchers. */
export function bucketOf(watcherKey: string, buckets: number): number {
  return createHash("sha1").update(watcherKey).digest().readUInt32BE(0) % buckets;
}

/**
 * One job per (presentity, network, bucket): a burst of changes coalesces into the newest state,
 * as per-watcher jobs would, at a fraction of the queue cost (DESIGN §4 "notified in batches").
 */
export function batchJob(presentity: Endpoint, network: NetworkId, bucket: number, watchers: readonly string[]): DeliveryJobSpec {
  return {
    kind: "presence",
    network,
    key: `pb.${digest(endpointKey(presentity), network)}.${bucket}`,
    coalesce: true,
    payload: { op: "batch", presentity, watchers },
  };
}

/** Notices about one subscription are delivered in order; each is its own job. */
export function subscriptionJob(to: Endpoint, notice: "request" | "outcome", subscription: Subscription): DeliveryJobSpec {
  return {
    kind: "subscription",
    network: to.network,
    conversation: `sub.${digest(endpointKey(subscription.watcher), endpointKey(subscription.presentity))}`,
    key: `sn.${newCanonicalId()}`,
    payload: { to, notice, subscription },
  };
}
