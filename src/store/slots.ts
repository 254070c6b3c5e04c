/**
 * Redis Cluster hash tags for the gateway's own stores (issue 14). A Redis Cluster runs a MULTI or
 * a script only when every key it touches hashes to one slot; a `{tag}` in a key name makes the
 * slot depend on the tag alone. Entities (presentities, watchers) are spread over a fixed number
 * of **shards**; every key of one entity, and the shard's own index sets (`pres:live`, `pres:due`),
 * carry the shard's tag, so one presence write stays one atomic script on one slot.
 *
 * With `shards = 0` (one Redis, the default) no tag is added: key names stay what they always were.
 */

/** Shards on a cluster unless configured: enough to spread over a few dozen masters. */
export const DEFAULT_CLUSTER_SHARDS = 16;

/** FNV-1a of `s` (32 bits): stable across processes and versions, so a key's shard never moves. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The shard of `entity` among `shards` (0 when unsharded). */
export function shardOf(entity: string, shards: number): number {
  return shards > 0 ? fnv1a(entity) % shards : 0;
}

/** `{<name><shard>}:` for a sharded layout, "" for one Redis. */
export function shardTag(name: string, shard: number, shards: number): string {
  return shards > 0 ? `{${name}${shard}}:` : "";
}

/** The tag of `entity`'s shard: `{p7}:` (or "" unsharded). */
export function entityTag(name: string, entity: string, shards: number): string {
  return shardTag(name, shardOf(entity, shards), shards);
}

/** Every shard number (one, 0, when unsharded). */
export function allShards(shards: number): number[] {
  return shards > 0 ? Array.from({ length: shards }, (_, i) => i) : [0];
}
