/**
 * Back-pressure (issue 10): a conversation whose line (order.ts, `ord`) holds `max` jobs or more
 * takes no new ones until it is shorter; the enqueue is refused with PARLEY_UNAVAILABLE, which each
 * source turns into its own "try later" (HTTP 503 to the homeserver, SMTP 451, an XMPP `wait`
 * error), so a slow or dead destination pushes back on its senders instead of growing Redis
 * without bound.
 *
 * Cheap in the normal case: the length comes back with each append (REGISTER's reply), and only a
 * line this process saw at the bound costs a round trip (LLEN) on later enqueues, until it drains.
 * The bound is per conversation and soft: appends already on their way (other processes, the same
 * batch) may pass it by a few.
 */
import type { RedisClient } from "./bullmq.js";

export class BacklogBound {
  /** Lines this process saw at or over the bound at their last append or check. */
  private readonly full = new Set<string>();

  constructor(private readonly redis: RedisClient, readonly max: number, private readonly onFull: (ord: string, length: number) => void = () => undefined) {}

  /** A line's length after an append. */
  seen(ord: string, length: number): void {
    if (length < this.max) return;
    if (!this.full.has(ord)) this.onFull(ord, length);
    this.full.add(ord);
  }

  /** Whether any of `ords` may be full (no Redis). */
  suspect(ords: Iterable<string>): boolean {
    if (this.full.size === 0) return false;
    for (const o of ords) if (this.full.has(o)) return true;
    return false;
  }

  /** Of `ords`, those still at or over the bound (one LLEN each, in parallel); the others are forgotten. */
  async over(ords: Iterable<string>): Promise<ReadonlySet<string>> {
    const check = [...new Set(ords)].filter((o) => this.full.has(o));
    const lengths = await Promise.all(check.map((o) => this.redis.llen(o)));
    const over = new Set<string>();
    check.forEach((o, i) => { if (lengths[i]! >= this.max) over.add(o); else this.full.delete(o); });
    return over;
  }
}
