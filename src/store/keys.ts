/**
 * Key layout. Everything Parley writes to Redis lives under one configurable prefix (default
 * `parley`), so several gateways — or several tests — share one Redis without touching each
 * other's keys (DESIGN §6). BullMQ's own keys use the same prefix through its `prefix` option.
 *
 *   <prefix>:<queue>:…                 BullMQ (queue names are `<kind>-<network>`)
 *   <prefix>:dlv:…                     delivery layer: sent markers, conversation order
 *   <prefix>:state:<network>:<key>     adapter state (AdapterStateStore)
 *   <prefix>:lease:<network>:<name>    adapter leases
 *   <prefix>:ids:…                     canonical ↔ native id map
 *   <prefix>:claims:<native key>       inbound claims on native ids (RFC 2779 2.5.2)
 */
import type { Redis } from "ioredis";

export const DEFAULT_PREFIX = "parley";

export interface Keyspace {
  readonly prefix: string;
  /** `<prefix>:<part>:<part>…` */
  key(...parts: readonly string[]): string;
  /**
   * A key part that makes a group of keys one Redis Cluster slot: `{name}` on a cluster, `name`
   * on one Redis (whose key names stay as they were).
   */
  group(name: string): string;
}

export function keyspace(prefix: string = DEFAULT_PREFIX, opts: { cluster?: boolean } = {}): Keyspace {
  if (prefix === "" || /[\s{}]/.test(prefix)) throw new Error(`key prefix "${prefix}" must be non-empty, without spaces or braces`);
  return { prefix, key: (...parts) => [prefix, ...parts].join(":"), group: (name) => (opts.cluster ? `{${name}}` : name) };
}

/**
 * Delete every key under `<prefix>:` (SCAN + UNLINK, never FLUSHDB). For tests and for an admin
 * resetting a test install; refuses the bare default prefix to avoid wiping a production gateway.
 */
export async function deleteKeysUnder(redis: Redis, prefix: string, opts: { allowDefault?: boolean } = {}): Promise<number> {
  if (prefix === DEFAULT_PREFIX && !opts.allowDefault) throw new Error("refusing to delete the default prefix without allowDefault");
  keyspace(prefix);
  let cursor = "0";
  let deleted = 0;
  const pattern = `${prefix.replace(/[*?[\]\\]/g, "\\$&")}:*`;
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 1000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.unlink(...keys);
  } while (cursor !== "0");
  return deleted;
}
