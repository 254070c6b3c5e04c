/**
 * Inbound dedupe and replay protection (RFC 2779 2.5.2, DESIGN §3 "ack after durability"):
 * `SET <prefix>:seen:<scope>:<id> 1 NX EX <ttl>`. The first sighting wins; a retransmitted Matrix
 * transaction, a re-sent XMPP stanza or a re-delivered mail is recognised by its native id.
 */
import type { Redis } from "ioredis";
import { unavailable } from "./redis.js";
import type { Keyspace } from "./keys.js";

export class InboundDedupe {
  constructor(private readonly redis: Redis, private readonly keys: Keyspace) {}

  /**
   * True when `(scope, id)` was seen within the last `ttlSeconds` (a duplicate: acknowledge, do
   * nothing); false when this call is the first sighting and has recorded it. Rejects with
   * PARLEY_UNAVAILABLE when Redis cannot record it, so nothing is accepted unrecorded.
   */
  async seenBefore(scope: string, id: string, ttlSeconds: number): Promise<boolean> {
    if (!(ttlSeconds > 0)) throw new RangeError(`ttlSeconds must be > 0, got ${ttlSeconds}`);
    try {
      const r = await this.redis.set(this.keys.key("seen", scope, id), "1", "EX", Math.ceil(ttlSeconds), "NX");
      return r !== "OK";
    } catch (e) { throw unavailable(e, "a dedupe mark"); }
  }

  /** Forget a sighting (e.g. when storing the event failed after the mark, so a retry is not lost). */
  async forget(scope: string, id: string): Promise<void> {
    try { await this.redis.del(this.keys.key("seen", scope, id)); } catch (e) { throw unavailable(e, "a dedupe unmark"); }
  }
}

/** Functional form of {@link InboundDedupe.seenBefore}. */
export function seenBefore(redis: Redis, keys: Keyspace, scope: string, id: string, ttlSeconds: number): Promise<boolean> {
  return new InboundDedupe(redis, keys).seenBefore(scope, id, ttlSeconds);
}
