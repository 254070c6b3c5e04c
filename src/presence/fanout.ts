/**
 * Fan-out and notification (DESIGN §4, RFC 2779 3.2.3, 2.2.5): one change → one fan-out job →
 * the watchers that may see it, grouped by their network → one notification job per watcher,
 * enqueued in batches. A notification job projects the newest state when it runs.
 */
import { DeliveryError } from "../adapter/contract.js";
import { endpointKey, type Endpoint, type NetworkId } from "../model/address.js";
import { overallBasic, type Presence } from "../model/presence.js";
import type { SubscriptionState } from "../model/subscription.js";
import type { DeliveryJobSpec } from "../delivery/types.js";
import { project, viewFor } from "../policy/project.js";
import { blocksPresentity } from "../policy/access-policy.js";
import { decodeRow } from "./subscriptions.js";
import { endpointFromKey } from "./keys.js";
import { parseStored, type InlineFanout } from "./store.js";
import { batchJob, bucketOf, notifyJob } from "./jobs.js";
import { presenceAdapter, type PresenceParts } from "./context.js";

export interface FanoutResult {
  /** Notification jobs enqueued, by network. */
  readonly enqueued: Readonly<Record<string, number>>;
  /** Watchers left out: no permission, polite blocks, or nothing new for their view. */
  readonly skipped: number;
}

/** Watchers who receive changes: approved ones, and politely blocked ones when rules change. */
const NOTIFIED: ReadonlySet<SubscriptionState> = new Set(["approved", "politely-blocked"]);

/** What a fan-out reads: the watchers, the rules override, and whether OPEN/CLOSED changed since the last one. */
async function readFanout(parts: PresenceParts, presentity: Endpoint): Promise<InlineFanout> {
  const { redis } = parts.options;
  const pkey = parts.keys.presence(presentity);
  parts.store.roundTrips++;
  const results = await redis.pipeline()
    .hgetall(parts.keys.watchers(presentity))
    .get(parts.policy.rulesKey(presentity))
    .hmget(pkey, "o", "fb")
    .exec();
  const [open, previousBasic] = (results?.[2]?.[1] ?? [null, null]) as [string | null, string | null];
  const basic = open === "1" ? "open" : "closed";
  const basicChanged = previousBasic !== basic;
  // Not awaited: the connection keeps order, so the next fan-out reads it; a lost write costs
  // basic-only watchers one extra notification at most.
  if (basicChanged) redis.hset(pkey, "fb", basic).catch(() => undefined);
  return { watchers: (results?.[0]?.[1] ?? {}) as Record<string, string>, rulesJson: results?.[1]?.[1] as string | null, basicChanged };
}

/**
 * Enqueue notifications for `presentity`'s watchers. A watcher seeing CLOSED only (polite
 * blocking, invisibility) gets nothing on ordinary changes, since even the timing of a
 * notification would tell it something (5.1.15); a basic-only watcher only when OPEN/CLOSED
 * changed. `force` (access rules changed) re-sends every view.
 */
export async function runFanout(parts: PresenceParts, presentity: Endpoint, force: boolean, inline?: InlineFanout): Promise<FanoutResult> {
  const read = inline ?? (await readFanout(parts, presentity));
  const rules = parts.policy.resolve(presentity, read.rulesJson);
  const { watchers, basicChanged } = read;
  const buckets = new Map<NetworkId, string[][]>();
  let skipped = 0;
  for (const [key, json] of Object.entries(watchers)) {
    const row = decodeRow(json);
    if (!row || !NOTIFIED.has(row.s)) continue;
    const watcher = endpointFromKey(key);
    const view = viewFor(rules, watcher, presentity, row.s);
    const send = view === "full" || (view === "basic" && (basicChanged || force)) || (view === "closed" && force);
    if (!send || !parts.options.hasPresence(watcher.network)) {
      skipped++;
      continue;
    }
    let lists = buckets.get(watcher.network);
    if (!lists) buckets.set(watcher.network, (lists = Array.from({ length: parts.buckets }, () => [])));
    lists[bucketOf(key, parts.buckets)]!.push(key);
  }
  const jobs: DeliveryJobSpec[] = [];
  const enqueued: Record<string, number> = {};
  for (const [network, lists] of buckets) {
    lists.forEach((list, bucket) => { if (list.length > 0) jobs.push(batchJob(presentity, network, bucket, list)); });
    enqueued[network] = lists.reduce((n, l) => n + l.length, 0);
  }
  if (jobs.length > 0) await parts.options.delivery.enqueue(jobs);
  parts.log.debug({ presentity: endpointKey(presentity), enqueued, skipped, force }, "presence fan-out");
  return { enqueued, skipped };
}

/**
 * The presence of `presentity` as `watcher` may see it now: newest stored state, the watcher's
 * subscription and the access rules, read in one round trip (two pipelines at once) and projected (2.3.3, 3.3.3).
 */
/**
 * The rules overrides of `who` (endpoint keys), read alongside the presentity's pipeline: one
 * pipeline per key shard, since on a Redis Cluster each watcher's rules lie in its own slot.
 */
export async function rulesOf(parts: PresenceParts, who: readonly string[]): Promise<(string | null)[]> {
  const byShard = new Map<number, number[]>();
  who.forEach((k, i) => {
    const s = parts.keys.shardOf(k);
    const list = byShard.get(s);
    if (list) list.push(i); else byShard.set(s, [i]);
  });
  const out = new Array<string | null>(who.length).fill(null);
  await Promise.all([...byShard.values()].map(async (indexes) => {
    const pipeline = parts.options.redis.pipeline();
    for (const i of indexes) pipeline.get(parts.policy.rulesKey(endpointFromKey(who[i]!)));
    const results = (await pipeline.exec()) ?? [];
    indexes.forEach((i, j) => { out[i] = (results[j]?.[1] ?? null) as string | null; });
  }));
  return out;
}

export async function projectedFor(parts: PresenceParts, watcher: Endpoint, presentity: Endpoint): Promise<Presence | undefined> {
  parts.store.roundTrips++;
  const [results, [watcherRules]] = await Promise.all([
    parts.options.redis.pipeline()
      .hmget(parts.keys.presence(presentity), ...parts.store.fields)
      .hget(parts.keys.watchers(presentity), endpointKey(watcher))
      .get(parts.policy.rulesKey(presentity))
      .exec(),
    rulesOf(parts, [endpointKey(watcher)]),
  ]);
  // The watcher blocked the presentity itself: it hears nothing from it (XEP-0191 §3.3).
  if (blocksPresentity(watcherRules, presentity)) return undefined;
  const stored = parseStored((results?.[0]?.[1] ?? []) as (string | null)[]);
  const subJson = results?.[1]?.[1] as string | null;
  const state = subJson ? decodeRow(subJson)?.s : undefined;
  const rules = parts.policy.resolve(presentity, results?.[2]?.[1] as string | null);
  return project(stored?.presence, watcher, rules, state);
}

/** Perform a notification job: project at send time, hand it to the watcher's adapter. */
export async function notify(parts: PresenceParts, watcher: Endpoint, presentity: Endpoint): Promise<boolean> {
  const presence = await projectedFor(parts, watcher, presentity);
  if (presence === undefined) return false;
  const adapter = presenceAdapter(parts, watcher.network);
  if (adapter === undefined) return false;
  await adapter.deliverPresence({ watcher, presence });
  parts.log.debug({ watcher: endpointKey(watcher), presentity: endpointKey(presentity), basic: overallBasic(presence) }, "presence delivered");
  return true;
}

/**
 * Perform a batch job: the newest state, the rules and every watcher's subscription in one round
 * trip, then each watcher's own projection to its adapter. A watcher whose delivery fails gets a
 * job of its own (with its own retries), so one bad watcher never makes the others hear twice.
 */
export async function notifyBatch(parts: PresenceParts, network: NetworkId, presentity: Endpoint, watcherKeys: readonly string[]): Promise<number> {
  if (watcherKeys.length === 0) return 0;
  parts.store.roundTrips++;
  // Each watcher's own rules too, for its own block list (XEP-0191 §3.3): absent keys cost a nil each.
  const [results, watcherRules] = await Promise.all([
    parts.options.redis.pipeline()
      .hmget(parts.keys.presence(presentity), ...parts.store.fields)
      .get(parts.policy.rulesKey(presentity))
      .hmget(parts.keys.watchers(presentity), ...watcherKeys)
      .exec(),
    rulesOf(parts, watcherKeys),
  ]);
  const stored = parseStored((results?.[0]?.[1] ?? []) as (string | null)[]);
  if (stored === undefined) return 0;
  const rules = parts.policy.resolve(presentity, results?.[1]?.[1] as string | null);
  const rows = (results?.[2]?.[1] ?? []) as (string | null)[];
  const adapter = presenceAdapter(parts, network);
  if (adapter === undefined) return 0;
  const retry: DeliveryJobSpec[] = [];
  let sent = 0;
  await Promise.all(watcherKeys.map(async (key, i) => {
    const json = rows[i];
    const watcher = endpointFromKey(key);
    if (blocksPresentity(watcherRules[i], presentity)) return;
    const presence = project(stored.presence, watcher, rules, json ? decodeRow(json)?.s : undefined);
    if (presence === undefined) return;
    try {
      await adapter.deliverPresence({ watcher, presence });
      sent++;
    } catch (e) {
      if (e instanceof DeliveryError && e.failureClass === "permanent") return;
      retry.push(notifyJob(watcher, presentity));
    }
  }));
  if (retry.length > 0) await parts.options.delivery.enqueue(retry);
  parts.log.debug({ presentity: endpointKey(presentity), network, sent, retried: retry.length }, "presence batch delivered");
  return sent;
}
