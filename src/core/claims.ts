/**
 * Inbound claims on native ids, in Redis (DESIGN §3 "dedupe on native ids"; RFC 2779 2.5.2).
 * A claim lives for `ttlSeconds` (default 7 days): longer than any source retries or replays a
 * transaction (Synapse can reuse transaction ids after a restart, so ids are claimed per event).
 */
import type { Redis } from "ioredis";
import type { CanonicalId } from "../model/ids.js";
import type { InboundClaims } from "./ports.js";

/** Delete the key only while it still holds this canonical id (never someone else's claim). */
const RELEASE_SCRIPT = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`;

export class RedisInboundClaims implements InboundClaims {
  constructor(private readonly redis: Redis, private readonly prefix: string, private readonly ttlSeconds = 7 * 24 * 3600) {}

  async claim(nativeKey: string, canonical: CanonicalId): Promise<CanonicalId | undefined> {
    // SET … NX GET (Redis ≥ 7): sets when absent and returns the previous value in one round trip.
    const previous = await this.redis.set(this.prefix + nativeKey, canonical, "EX", this.ttlSeconds, "NX", "GET");
    return previous === null ? undefined : (previous as CanonicalId);
  }

  async release(nativeKey: string, canonical: CanonicalId): Promise<void> {
    await this.redis.eval(RELEASE_SCRIPT, 1, this.prefix + nativeKey, canonical);
  }
}
