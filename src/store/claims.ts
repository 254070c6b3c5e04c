/**
 * Inbound claims on native ids (DESIGN §3 "dedupe on native ids"; RFC 2779 2.5.2), under
 * `<prefix>:claims:<native key>`. The first arrival of a native id claims it for its canonical id;
 * a replay (Synapse resending a transaction, an MTA retrying after a lost 250) finds the claim and
 * learns that earlier id. A claim lives `ttlSeconds` (default 7 days): longer than any source
 * retries, and ids are claimed per event because Synapse can reuse transaction ids after a restart.
 */
import type { RedisClient } from "./redis.js";
import type { CanonicalId } from "../model/ids.js";
import type { InboundClaims } from "../core/ports.js";
import { unavailable } from "./redis.js";
import type { Keyspace } from "./keys.js";

/** Delete the key only while it still holds this canonical id (never someone else's claim). */
const RELEASE_SCRIPT = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`;

export class RedisInboundClaims implements InboundClaims {
  constructor(private readonly redis: RedisClient, private readonly keys: Keyspace, private readonly ttlSeconds = 7 * 24 * 3600) {}

  private key(nativeKey: string): string {
    return this.keys.key("claims", nativeKey);
  }

  async claim(nativeKey: string, canonical: CanonicalId): Promise<CanonicalId | undefined> {
    try {
      // SET … NX GET (Redis ≥ 7): sets when absent and returns the previous value in one round trip.
      const previous = await this.redis.set(this.key(nativeKey), canonical, "EX", this.ttlSeconds, "NX", "GET");
      return previous === null ? undefined : (previous as CanonicalId);
    } catch (e) { throw unavailable(e, "an inbound claim"); }
  }

  async release(nativeKey: string, canonical: CanonicalId): Promise<void> {
    try {
      await this.redis.eval(RELEASE_SCRIPT, 1, this.key(nativeKey), canonical);
    } catch (e) { throw unavailable(e, "releasing an inbound claim"); }
  }
}
