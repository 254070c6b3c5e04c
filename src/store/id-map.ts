/**
 * The persistent canonical ↔ native id map (DESIGN §3 "echo and loops"; FIELD.md: never in
 * memory). Two structures under `<prefix>:ids:`:
 *   n:<json [network, kind, scope|null, id]>  → canonical id          (string, with TTL)
 *   c:<canonical>  hash  <network>|<kind>     → json NativeId          (hash, with TTL)
 * The JSON array makes the native key unambiguous whatever characters the ids contain.
 * Entries expire after `ttlSeconds` (default 30 days): long enough for receipts, replies and
 * echo suppression, bounded so the map does not grow for ever (RFC 2779 2.2 scale).
 */
import type { RedisClient } from "./redis.js";
import type { IdMap } from "../adapter/state.js";
import { CanonicalIdSchema, type CanonicalId } from "../model/ids.js";
import { NativeIdSchema, type NativeId } from "../model/message.js";
import { transact, unavailable } from "./redis.js";
import type { Keyspace } from "./keys.js";

export const DEFAULT_ID_MAP_TTL_SECONDS = 30 * 24 * 3600;

type NativeRef = Pick<NativeId, "network" | "kind" | "id" | "scope">;

export class RedisIdMap implements IdMap {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keyspace,
    private readonly ttlSeconds: number = DEFAULT_ID_MAP_TTL_SECONDS,
  ) {}

  private nativeKey(n: NativeRef): string {
    return this.keys.key("ids", "n", JSON.stringify([n.network, n.kind, n.scope ?? null, n.id]));
  }
  private canonicalKey(c: CanonicalId): string { return this.keys.key("ids", "c", c); }

  async link(canonical: CanonicalId, native: NativeId): Promise<void> {
    const ck = this.canonicalKey(canonical);
    try {
      // Two entities, two slots on a cluster: the canonical side first, then the native key that finds it.
      await transact(this.redis, [
        (m) => m.hset(ck, `${native.network}|${native.kind}`, JSON.stringify(native)).expire(ck, this.ttlSeconds),
        (m) => m.set(this.nativeKey(native), canonical, "EX", this.ttlSeconds),
      ]);
    } catch (e) { throw unavailable(e, "an id-map write"); }
  }

  async canonicalFor(native: NativeRef): Promise<CanonicalId | undefined> {
    let raw: string | null;
    try { raw = await this.redis.get(this.nativeKey(native)); } catch (e) { throw unavailable(e, "an id-map read"); }
    if (raw === null) return undefined;
    const parsed = CanonicalIdSchema.safeParse(raw);
    return parsed.success ? parsed.data : undefined;
  }

  async nativeFor(canonical: CanonicalId, network: string, kind: string): Promise<NativeId | undefined> {
    let raw: string | null;
    try { raw = await this.redis.hget(this.canonicalKey(canonical), `${network}|${kind}`); } catch (e) { throw unavailable(e, "an id-map read"); }
    if (raw === null) return undefined;
    const parsed = NativeIdSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  }
}
