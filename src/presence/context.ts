/** What the parts of the presence service share: stores, policy, delivery, adapters, clock. */
import type { RedisClient } from "../store/redis.js";
import { DeliveryError, type Adapter } from "../adapter/contract.js";
import { deliversPresence, deliversSubscriptions, type PresenceDelivery, type SubscriptionDelivery } from "../adapter/presence.js";
import type { NetworkId } from "../model/address.js";
import type { DomainMappings } from "../mappings/types.js";
import type { DeliveryService } from "../delivery/types.js";
import type { Logger } from "../log/logger.js";
import { AccessPolicy } from "../policy/access-policy.js";
import { PresenceKeys } from "./keys.js";
import { PresenceStore } from "./store.js";
import { SubscriptionStore } from "./subscriptions.js";

export interface PresenceServiceOptions {
  readonly redis: RedisClient;
  /** Key prefix, e.g. `parley:`; every key of this service starts with it. */
  readonly prefix: string;
  readonly mappings: () => DomainMappings;
  readonly delivery: DeliveryService;
  /** The running adapter of a network (found to deliver presence or subscriptions by the guards in src/adapter/presence.ts). */
  readonly adapters: (network: NetworkId) => Adapter | undefined;
  /** Whether a network has presence (AdapterCapabilities.presence); a mailbox is never a watcher or presentity. */
  readonly hasPresence: (network: NetworkId) => boolean;
  readonly log: Logger;
  /** A presentity not heard of for this long goes CLOSED (RFC 2779 3.2.4). Default 24 h; 0 disables. */
  readonly livenessTimeoutMs?: number;
  /**
   * Whether this process hears a network now (its adapter's link is up): `true` — the network's
   * own servers report vanished sessions (an XMPP server sends unavailable, a homeserver times a
   * user out), so its presentities stay as they are; `false` — the link is down, so they go
   * CLOSED when their deadline passes; `undefined` — not known here (e.g. a workers-only process),
   * decide later. Absent: every presentity goes CLOSED when its deadline passes.
   */
  readonly linkReady?: (network: NetworkId) => boolean | undefined;
  /** At most one fan-out per presentity per interval, plus one trailing with the newest state. Default 1000 ms. */
  readonly fanoutIntervalMs?: number;
  /** How often the timers run (due fan-outs, liveness). Default 250 ms. */
  readonly tickMs?: number;
  /**
   * A change of a presentity with at most this many subscription records is fanned out at once,
   * in the accept path (one round trip more there, one queue hop less: RFC 2779 3.4.1); larger
   * ones through a fan-out job. Default 256; 0 always uses the job.
   */
  readonly inlineFanoutMax?: number;
  /** Fan-out buckets per network: each change enqueues at most this many jobs per network. Default 64. */
  readonly buckets?: number;
  readonly now?: () => number;
  /** Key shards (src/store/slots.ts): 0 on one Redis (the default), > 0 on a Redis Cluster. */
  readonly shards?: number;
}

export interface PresenceParts {
  readonly options: PresenceServiceOptions;
  readonly keys: PresenceKeys;
  readonly store: PresenceStore;
  readonly subscriptions: SubscriptionStore;
  readonly policy: AccessPolicy;
  readonly log: Logger;
  readonly now: () => number;
  readonly buckets: number;
  readonly inlineFanoutMax: number;
  readonly fanoutIntervalMs: number;
}

export function createParts(options: PresenceServiceOptions): PresenceParts {
  const keys = new PresenceKeys(options.prefix, options.shards ?? 0);
  const fanoutIntervalMs = options.fanoutIntervalMs ?? 1000;
  const inlineFanoutMax = options.inlineFanoutMax ?? 256;
  const policy = new AccessPolicy({ redis: options.redis, prefix: options.prefix, mappings: options.mappings, rulesKey: (who) => keys.rules(who) });
  return {
    options,
    keys,
    store: new PresenceStore({
      redis: options.redis, keys, livenessTimeoutMs: options.livenessTimeoutMs ?? 24 * 3600_000, fanoutIntervalMs, inlineFanoutMax,
      rulesKey: (who) => policy.rulesKey(who),
    }),
    subscriptions: new SubscriptionStore(options.redis, keys),
    policy,
    log: options.log.child({ module: "presence" }),
    now: options.now ?? Date.now,
    buckets: options.buckets ?? 64,
    inlineFanoutMax,
    fanoutIntervalMs,
  };
}

function runningAdapter(parts: PresenceParts, network: NetworkId): Adapter {
  const adapter = parts.options.adapters(network);
  if (adapter === undefined) throw new DeliveryError("transient", "unavailable", `no ${network} adapter runs in this process`);
  return adapter;
}

/** The adapter that shows presence on `network`: undefined when the network has none (nothing to show); throws transient when it does not run here. */
export function presenceAdapter(parts: PresenceParts, network: NetworkId): PresenceDelivery | undefined {
  const adapter = runningAdapter(parts, network);
  return deliversPresence(adapter) ? adapter : undefined;
}

/** The adapter that carries subscription notices on `network`, like {@link presenceAdapter}. */
export function subscriptionAdapter(parts: PresenceParts, network: NetworkId): SubscriptionDelivery | undefined {
  const adapter = runningAdapter(parts, network);
  return deliversSubscriptions(adapter) ? adapter : undefined;
}
