/**
 * Redis key layout of presence and subscriptions (docs/presence.md). Every key starts with the
 * gateway's prefix; an endpoint is named by `endpointKey` (`network/address`).
 *
 *   pres:<T><ep>          hash  seq, ov (origin version), p (presence JSON), o (1 = open), seen (ms),
 *                               lf (last fan-out ms), fb (basic at the last fan-out)
 *   pres:live<:T>         zset  open presentities → liveness deadline (ms), one per shard
 *   pres:due<:T>          zset  presentities with a throttled fan-out → when it is due (ms), one per shard
 *   sub:w:<T><presentity> hash  watcher ep → subscription record   (the fan-out index)
 *   sub:p:<T><watcher>    hash  presentity ep → subscription record (what a watcher watches)
 *   sub:unshown:<T><ep>   set   watchers whose pending request the presentity has not been shown
 *   probes:<watcher>      set   presentities whose probes the watcher's probe job will answer
 *   acl:<T><ep>           string per-address access-rule overrides (src/policy)
 *
 * `<T>` is the endpoint's shard tag `{pN}:` on a Redis Cluster (src/store/slots.ts) and empty on
 * one Redis: every key one presence write touches (its hash, its watchers, its rules, its shard's
 * live and due sets) shares one slot, so the write stays one atomic script.
 */
import { asNetworkId, endpointKey, type CanonicalAddress, type Endpoint } from "../model/address.js";
import { allShards, entityTag, shardOf } from "../store/slots.js";

const TAG = "p";

export class PresenceKeys {
  /** `shards` 0: one Redis, untagged names; > 0: a Redis Cluster layout with that many shards. */
  constructor(readonly prefix: string, readonly shards = 0) {}
  private ep(who: Endpoint | string): string { return typeof who === "string" ? who : endpointKey(who); }
  /** The shard tag of an endpoint (`{p3}:`, or "" on one Redis). */
  tag(who: Endpoint | string): string { return entityTag(TAG, this.ep(who), this.shards); }
  shardOf(who: Endpoint | string): number { return shardOf(this.ep(who), this.shards); }
  /** Every shard (just 0 on one Redis). */
  get allShards(): number[] { return allShards(this.shards); }
  presence(who: Endpoint | string): string { return `${this.prefix}pres:${this.tag(who)}${this.ep(who)}`; }
  /** The live set of a shard (one Redis: the only one). */
  live(shard: number): string { return this.shards > 0 ? `${this.prefix}pres:live:{${TAG}${shard}}` : `${this.prefix}pres:live`; }
  due(shard: number): string { return this.shards > 0 ? `${this.prefix}pres:due:{${TAG}${shard}}` : `${this.prefix}pres:due`; }
  liveOf(who: Endpoint | string): string { return this.live(this.shardOf(who)); }
  dueOf(who: Endpoint | string): string { return this.due(this.shardOf(who)); }
  watchers(presentity: Endpoint | string): string { return `${this.prefix}sub:w:${this.tag(presentity)}${this.ep(presentity)}`; }
  watching(watcher: Endpoint | string): string { return `${this.prefix}sub:p:${this.tag(watcher)}${this.ep(watcher)}`; }
  unshown(presentity: Endpoint): string { return `${this.prefix}sub:unshown:${this.tag(presentity)}${endpointKey(presentity)}`; }
  rules(who: Endpoint | string): string { return `${this.prefix}acl:${this.tag(who)}${this.ep(who)}`; }
  probes(watcher: Endpoint | string): string { return `${this.prefix}probes:${this.ep(watcher)}`; }
}

/** The endpoint named by an `endpointKey` that this store wrote itself (trusted, not re-validated). */
export function endpointFromKey(key: string): Endpoint {
  const slash = key.indexOf("/");
  return { network: asNetworkId(key.slice(0, slash)), address: key.slice(slash + 1) as CanonicalAddress };
}
