/**
 * Probes, batched per watcher (RFC 2779 2.2.4, 3.2.1): a watcher that comes online asks for the
 * state of everyone it watches at once (an XMPP server sends one probe per contact). Each probe
 * adds the presentity to the watcher's probe set; one coalescing job per watcher answers them all,
 * reading every state, subscription and rule set in one round trip.
 */
import { DeliveryError } from "../adapter/contract.js";
import { endpointKey, type Endpoint } from "../model/address.js";
import type { DeliveryJobSpec } from "../delivery/types.js";
import { blocksPresentity } from "../policy/access-policy.js";
import { project } from "../policy/project.js";
import { endpointFromKey } from "./keys.js";
import { decodeRow } from "./subscriptions.js";
import { parseStored } from "./store.js";
import { notifyJob, probesJob } from "./jobs.js";
import { presenceAdapter, type PresenceParts } from "./context.js";
import { rulesOf } from "./fanout.js";

function probesKey(parts: PresenceParts, watcher: Endpoint): string {
  return parts.keys.probes(watcher);
}

type Read = [unknown, unknown][];

/** State, `watcher`'s subscription and rules of each member, one pipeline per key shard (one slot each on a cluster). */
async function readMembers(parts: PresenceParts, watcher: Endpoint, members: readonly string[]): Promise<Read> {
  const byShard = new Map<number, number[]>();
  members.forEach((m, i) => {
    const s = parts.keys.shardOf(m);
    const list = byShard.get(s);
    if (list) list.push(i); else byShard.set(s, [i]);
  });
  const out: Read = new Array<[unknown, unknown]>(3 * members.length);
  parts.store.roundTrips++;
  await Promise.all([...byShard.values()].map(async (indexes) => {
    const pipeline = parts.options.redis.pipeline();
    for (const i of indexes) {
      const m = members[i]!;
      pipeline.hmget(parts.keys.presence(m), ...parts.store.fields).hget(parts.keys.watchers(m), endpointKey(watcher)).get(parts.keys.rules(m));
    }
    const results = (await pipeline.exec()) ?? [];
    indexes.forEach((i, j) => { for (let k = 0; k < 3; k++) out[3 * i + k] = results[3 * j + k] as [unknown, unknown]; });
  }));
  return out;
}

/** Record a probe and make sure one job will answer the watcher's probes. */
export async function addProbe(parts: PresenceParts, watcher: Endpoint, presentity: Endpoint): Promise<void> {
  parts.store.roundTrips++;
  await parts.options.redis.sadd(probesKey(parts, watcher), endpointKey(presentity));
  await parts.options.delivery.enqueue([probesJob(watcher)]);
}

/** Answer every waiting probe of `watcher`: each presentity's newest state, projected for it. */
export async function answerProbes(parts: PresenceParts, watcher: Endpoint): Promise<number> {
  const { redis } = parts.options;
  const key = probesKey(parts, watcher);
  parts.store.roundTrips++;
  const taken = await redis.multi().smembers(key).del(key).exec();
  const members = (taken?.[0]?.[1] ?? []) as string[];
  if (members.length === 0) return 0;
  let adapter;
  try {
    adapter = presenceAdapter(parts, watcher.network);
  } catch (e) {
    await redis.sadd(key, ...members);
    throw e;
  }
  if (adapter === undefined) return 0;
  // The watcher's own rules too: one it blocked is not reported to it (XEP-0191 §3.3).
  const [results, [watcherRules]] = await Promise.all([readMembers(parts, watcher, members), rulesOf(parts, [endpointKey(watcher)])]);
  const retry: DeliveryJobSpec[] = [];
  let sent = 0;
  await Promise.all(members.map(async (m, i) => {
    const presentity = endpointFromKey(m);
    if (blocksPresentity(watcherRules, presentity)) return;
    const stored = parseStored((results[3 * i]?.[1] ?? []) as (string | null)[]);
    const subJson = results[3 * i + 1]?.[1] as string | null;
    const rules = parts.policy.resolve(presentity, results[3 * i + 2]?.[1] as string | null);
    const presence = project(stored?.presence, watcher, rules, subJson ? decodeRow(subJson)?.s : undefined);
    if (presence === undefined) return;
    try {
      await adapter.deliverPresence({ watcher, presence });
      sent++;
    } catch (e) {
      if (!(e instanceof DeliveryError && e.failureClass === "permanent")) retry.push(notifyJob(watcher, presentity));
    }
  }));
  if (retry.length > 0) await parts.options.delivery.enqueue(retry);
  return sent;
}
