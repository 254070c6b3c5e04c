/**
 * The subscription store (RFC 2779 §5.1): one record per (watcher, presentity) in two hashes, one
 * per side, so both "who watches B" (the fan-out index) and "what does A watch" are one keyed read.
 * Records are kept after denial or cancellation, so the state can be told later (5.1.10).
 */
import { transact, type RedisClient } from "../store/redis.js";
import { endpointKey, type Endpoint } from "../model/address.js";
import { SubscriptionStateSchema, type Subscription, type SubscriptionState } from "../model/subscription.js";
import { endpointFromKey, type PresenceKeys } from "./keys.js";

/** Compact stored form: state, who decided, when. */
interface Row { s: SubscriptionState; d?: Subscription["decidedBy"]; at: string }

export function encodeRow(sub: Subscription): string {
  const row: Row = { s: sub.state, at: sub.at };
  if (sub.decidedBy !== undefined) row.d = sub.decidedBy;
  return JSON.stringify(row);
}

export function decodeRow(json: string): Row | undefined {
  try {
    const row = JSON.parse(json) as Row;
    return SubscriptionStateSchema.safeParse(row.s).success ? row : undefined;
  } catch {
    return undefined;
  }
}

function toSubscription(watcher: Endpoint, presentity: Endpoint, row: Row): Subscription {
  const sub: Subscription = { watcher, presentity, state: row.s, at: row.at };
  if (row.d !== undefined) sub.decidedBy = row.d;
  return sub;
}

export class SubscriptionStore {
  roundTrips = 0;
  constructor(private readonly redis: RedisClient, private readonly keys: PresenceKeys) {}

  async get(watcher: Endpoint, presentity: Endpoint): Promise<Subscription | undefined> {
    this.roundTrips++;
    const json = await this.redis.hget(this.keys.watchers(presentity), endpointKey(watcher));
    const row = json === null ? undefined : decodeRow(json);
    return row && toSubscription(watcher, presentity, row);
  }

  /** Write both sides in one transaction; `unshown` adds or removes the watcher from the presentity's unshown requests. */
  async put(sub: Subscription, unshown?: "add" | "remove"): Promise<void> {
    const w = endpointKey(sub.watcher);
    const p = endpointKey(sub.presentity);
    const row = encodeRow(sub);
    this.roundTrips++;
    // The presentity's side (the fan-out index) and the watcher's may lie on two cluster slots:
    // the fan-out index first; both writes are idempotent, and a caller's retry repairs a crash between.
    await transact(this.redis, [
      (m) => {
        m.hset(this.keys.watchers(p), w, row);
        if (unshown === "add") m.sadd(this.keys.unshown(sub.presentity), w);
        if (unshown === "remove") m.srem(this.keys.unshown(sub.presentity), w);
      },
      (m) => m.hset(this.keys.watching(w), p, row),
    ]);
  }

  /** All subscriptions where `who` is the presentity (`watchers`) or the watcher (`watching`). */
  async list(who: Endpoint, side: "watchers" | "watching"): Promise<Subscription[]> {
    this.roundTrips++;
    const all = await this.redis.hgetall(side === "watchers" ? this.keys.watchers(who) : this.keys.watching(who));
    const out: Subscription[] = [];
    for (const [key, json] of Object.entries(all)) {
      const row = decodeRow(json);
      if (!row) continue;
      const other = endpointFromKey(key);
      out.push(side === "watchers" ? toSubscription(other, who, row) : toSubscription(who, other, row));
    }
    return out;
  }

  /** Take the watchers whose pending requests `presentity` has not been shown yet. */
  async takeUnshown(presentity: Endpoint): Promise<Endpoint[]> {
    const key = this.keys.unshown(presentity);
    this.roundTrips++;
    const [[, members]] = (await this.redis.multi().smembers(key).del(key).exec()) as [[unknown, string[]], [unknown, number]];
    return members.map(endpointFromKey);
  }
}
