/**
 * The presence store (DESIGN §4): the latest canonical presence per presentity in one Redis hash,
 * with the origin's version (an older update never overwrites a newer one: RFC 2779 3.3.2), the
 * store's own sequence, the last-seen time, the liveness deadline and the fan-out throttle.
 * Every write is a compare-and-set on the sequence, so concurrent writers never lose an update.
 */
import type { RedisClient } from "../store/redis.js";
import { endpointKey, type Endpoint } from "../model/address.js";
import { PresenceSchema, type Presence } from "../model/presence.js";
import { aggregate, closeAll, isOpen } from "./aggregate.js";
import type { PresenceKeys } from "./keys.js";
import { Script } from "./script.js";

/**
 * KEYS: presence hash, live zset, due zset, watchers hash, rules override. ARGV: expected seq ("" when
 * none), new seq, origin version ("" to keep), JSON, now ms, open (1/0), liveness deadline (0: none),
 * member, throttle ms, largest inline fan-out. Returns {written, fanOutNow, cameOnline, number of
 * subscription records} and, for a small fan-out due now, {watchers (flat), rules JSON, previous basic}.
 */
const WRITE = new Script(`
local cur = redis.call('HGET', KEYS[1], 'seq') or ''
if cur ~= ARGV[1] then return {0, 0, 0, 0} end
local wasOpen = redis.call('HGET', KEYS[1], 'o') == '1'
local now = tonumber(ARGV[5])
redis.call('HSET', KEYS[1], 'seq', ARGV[2], 'p', ARGV[4], 'o', ARGV[6])
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'ov', ARGV[3]) end
if ARGV[6] == '1' or wasOpen then redis.call('HSET', KEYS[1], 'seen', ARGV[5]) end
if ARGV[6] == '1' and tonumber(ARGV[7]) > 0 then redis.call('ZADD', KEYS[2], ARGV[7], ARGV[8])
elseif ARGV[6] ~= '1' then redis.call('ZREM', KEYS[2], ARGV[8]) end
local lf = tonumber(redis.call('HGET', KEYS[1], 'lf') or '0')
local interval = tonumber(ARGV[9])
local fanout = 0
if now - lf >= interval then
  redis.call('HSET', KEYS[1], 'lf', ARGV[5])
  redis.call('ZREM', KEYS[3], ARGV[8])
  fanout = 1
else
  redis.call('ZADD', KEYS[3], 'NX', lf + interval, ARGV[8])
end
local came = 0
if ARGV[6] == '1' and not wasOpen then came = 1 end
local n = redis.call('HLEN', KEYS[4])
if fanout == 1 and n > 0 and n <= tonumber(ARGV[10]) then
  -- A small fan-out runs at once: hand back what it reads, and record the basic it reports.
  local fb = redis.call('HGET', KEYS[1], 'fb') or ''
  local basic = 'closed'
  if ARGV[6] == '1' then basic = 'open' end
  redis.call('HSET', KEYS[1], 'fb', basic)
  return {1, fanout, came, n, redis.call('HGETALL', KEYS[4]), redis.call('GET', KEYS[5]) or '', fb}
end
return {1, fanout, came, n}
`);

export interface StoredPresence {
  readonly presence: Presence;
  readonly seq: number;
  /** The origin's version of the newest accepted update (0 when only the gateway wrote). */
  readonly originVersion: number;
  readonly open: boolean;
  /** Last time (ms) the presentity was seen open, or went closed. */
  readonly lastSeen: number | undefined;
}

export type WriteResult =
  | { readonly status: "stale" }
  /** Same state as stored (a keep-alive): the liveness deadline moved, nothing to tell anyone. */
  | { readonly status: "unchanged" }
  | {
    readonly status: "written";
    readonly presence: Presence;
    readonly fanOutNow: boolean;
    readonly cameOnline: boolean;
    /** Subscription records of the presentity (all states): small fan-outs are run at once. */
    readonly watcherRecords: number;
    /** For a small fan-out due now: what it needs, read in the same round trip. */
    readonly inline?: InlineFanout;
  };

/** What a fan-out reads, handed over by the write that triggered it. */
export interface InlineFanout {
  readonly watchers: Record<string, string>;
  readonly rulesJson: string | null;
  readonly basicChanged: boolean;
}

export interface PresenceStoreOptions {
  readonly redis: RedisClient;
  readonly keys: PresenceKeys;
  /** A presentity heard of no more than this long ago is considered gone (RFC 2779 3.2.4); 0 disables. */
  readonly livenessTimeoutMs: number;
  /** At most one fan-out per presentity per interval; changes inside it coalesce into one more (DESIGN §4). */
  readonly fanoutIntervalMs: number;
  /** Fan-outs up to this many subscription records get their reads from the write itself. */
  readonly inlineFanoutMax: number;
  /** Redis key of a presentity's access-rule override (src/policy). */
  readonly rulesKey: (who: Endpoint) => string;
}

const FIELDS = ["p", "seq", "ov", "o", "seen"] as const;

export function parseStored(values: readonly (string | null)[]): StoredPresence | undefined {
  const [p, seq, ov, o, seen] = values;
  if (p === null || p === undefined) return undefined;
  return {
    presence: PresenceSchema.parse(JSON.parse(p)),
    seq: Number(seq ?? 0),
    originVersion: Number(ov ?? 0),
    open: o === "1",
    lastSeen: seen ? Number(seen) : undefined,
  };
}

/** Whether two stored presences tell a watcher the same thing (tuple times and versions aside). */
export function sameState(a: Presence, b: Presence): boolean {
  const strip = (p: Presence) => JSON.stringify([p.tuples.map((t) => ({ ...t, timestamp: undefined })), p.person, p.acceptsMessages, p.extensions, p.provenance]);
  return strip(a) === strip(b);
}

export class PresenceStore {
  /** Redis round trips made by this store (for the bench and instrumented tests). */
  roundTrips = 0;
  constructor(private readonly options: PresenceStoreOptions) {}

  get fields(): readonly string[] { return FIELDS; }

  async get(who: Endpoint): Promise<StoredPresence | undefined> {
    this.roundTrips++;
    return parseStored(await this.options.redis.hmget(this.options.keys.presence(who), ...FIELDS));
  }

  /**
   * Store an update from the presentity's own network. Stale (version not above the newest
   * accepted) updates are refused; the result says whether to fan out now or later (throttled).
   */
  async publish(incoming: Presence, now: number): Promise<WriteResult> {
    for (let attempt = 0; attempt < 8; attempt++) {
      const current = await this.get(incoming.presentity);
      if (current !== undefined && incoming.version <= current.originVersion) return { status: "stale" };
      const seq = (current?.seq ?? 0) + 1;
      const next = aggregate(current?.presence, incoming, seq, new Date(now).toISOString());
      if (current !== undefined && sameState(current.presence, next)) {
        await this.keepAlive(current, incoming.version, now);
        return { status: "unchanged" };
      }
      const result = await this.write(current, next, String(incoming.version), now);
      if (result !== undefined) return result;
    }
    throw new Error(`presence of ${endpointKey(incoming.presentity)}: too many concurrent writers`);
  }

  /**
   * Set a presentity CLOSED on the gateway's own authority (liveness timeout, restart without a
   * live session: RFC 2779 3.2.4, 3.2.5), marked `provenance: gateway` (5.1.4, 5.3.1). Returns
   * undefined when it was not open (nothing to do).
   */
  async closeByGateway(who: Endpoint, reason: string, now: number): Promise<WriteResult | undefined> {
    for (let attempt = 0; attempt < 8; attempt++) {
      const current = await this.get(who);
      if (current === undefined || !isOpen(current.presence)) {
        this.roundTrips++;
        await this.options.redis.zrem(this.options.keys.liveOf(who), endpointKey(who));
        return undefined;
      }
      const at = new Date(now).toISOString();
      const closed: Presence = {
        ...current.presence,
        tuples: [closeAll(current.presence.tuples, at).at(0)!],
        version: current.seq + 1,
        provenance: { source: "gateway", reason },
      };
      const result = await this.write(current, closed, "", now);
      if (result !== undefined) return result;
    }
    throw new Error(`presence of ${endpointKey(who)}: too many concurrent writers`);
  }

  /** A re-sent unchanged state: remember its version and push the liveness deadline; one round trip. */
  private async keepAlive(current: StoredPresence, originVersion: number, now: number): Promise<void> {
    const { redis, keys, livenessTimeoutMs } = this.options;
    const member = endpointKey(current.presence.presentity);
    const multi = redis.multi().hset(keys.presence(member), "ov", String(originVersion));
    if (current.open && livenessTimeoutMs > 0) multi.zadd(keys.liveOf(member), "XX", now + livenessTimeoutMs, member);
    this.roundTrips++;
    await multi.exec();
  }

  private async write(current: StoredPresence | undefined, next: Presence, originVersion: string, now: number): Promise<WriteResult | undefined> {
    const { keys, livenessTimeoutMs, fanoutIntervalMs, inlineFanoutMax } = this.options;
    const member = endpointKey(next.presentity);
    const open = isOpen(next);
    const deadline = livenessTimeoutMs > 0 ? now + livenessTimeoutMs : 0;
    this.roundTrips++;
    const r = (await WRITE.run(this.options.redis, [keys.presence(member), keys.liveOf(member), keys.dueOf(member), keys.watchers(member), this.options.rulesKey(next.presentity)], [
      current === undefined ? "" : String(current.seq), String(next.version), originVersion, JSON.stringify(next),
      now, open ? "1" : "0", deadline, member, fanoutIntervalMs, inlineFanoutMax,
    ])) as [number, number, number, number, string[]?, string?, string?];
    if (r[0] !== 1) return undefined;
    const result = { status: "written" as const, presence: next, fanOutNow: r[1] === 1, cameOnline: r[2] === 1, watcherRecords: r[3] };
    if (r[4] === undefined) return result;
    const watchers: Record<string, string> = {};
    for (let i = 0; i + 1 < r[4].length; i += 2) watchers[r[4][i]!] = r[4][i + 1]!;
    return { ...result, inline: { watchers, rulesJson: r[5] || null, basicChanged: r[6] !== (open ? "open" : "closed") } };
  }

  /** Presentities whose liveness deadline has passed, oldest first within each shard. */
  async expired(now: number, limit: number): Promise<string[]> {
    const { redis, keys } = this.options;
    this.roundTrips++;
    const pages = await Promise.all(keys.allShards.map((s) => redis.zrangebyscore(keys.live(s), "-inf", now, "LIMIT", 0, limit)));
    return pages.flat().slice(0, limit);
  }

  /** Push the liveness deadline of presentities that are still open (their network vouched for them). */
  async touch(who: readonly Endpoint[], now: number): Promise<void> {
    if (who.length === 0 || this.options.livenessTimeoutMs <= 0) return;
    const { redis, keys } = this.options;
    const deadline = now + this.options.livenessTimeoutMs;
    const byShard = new Map<number, (string | number)[]>();
    for (const w of who) {
      const s = keys.shardOf(w);
      let args = byShard.get(s);
      if (!args) byShard.set(s, (args = []));
      args.push(deadline, endpointKey(w));
    }
    this.roundTrips++;
    await Promise.all([...byShard].map(([s, args]) => redis.zadd(keys.live(s), "XX", "GT", ...args)));
  }

  /** Every open presentity, in pages (startup reconciliation only: never on a hot path). */
  async *openPresentities(): AsyncGenerator<string[]> {
    for (const shard of this.options.keys.allShards) {
      let cursor = "0";
      do {
        this.roundTrips++;
        const [next, flat] = await this.options.redis.zscan(this.options.keys.live(shard), cursor, "COUNT", 500);
        cursor = next;
        const members: string[] = [];
        for (let i = 0; i < flat.length; i += 2) members.push(flat[i]!);
        if (members.length > 0) yield members;
      } while (cursor !== "0");
    }
  }

  /** Throttled fan-outs that are due, from every shard: claimed by removing them (one process wins each). */
  async claimDue(now: number, limit: number): Promise<string[]> {
    const claimed = await Promise.all(this.options.keys.allShards.map((s) => this.claimDueIn(s, now, limit)));
    return claimed.flat();
  }

  private async claimDueIn(shard: number, now: number, limit: number): Promise<string[]> {
    const { redis, keys } = this.options;
    this.roundTrips++;
    const due = await redis.zrangebyscore(keys.due(shard), "-inf", now, "LIMIT", 0, limit);
    const claimed: string[] = [];
    for (const member of due) {
      this.roundTrips++;
      if ((await redis.zrem(keys.due(shard), member)) === 1) claimed.push(member);
    }
    if (claimed.length > 0) {
      // One shard's presentities share its slot: one pipeline serves them on a cluster too.
      const pipeline = redis.pipeline();
      for (const member of claimed) pipeline.hset(keys.presence(member), "lf", now);
      this.roundTrips++;
      await pipeline.exec();
    }
    return claimed;
  }

  /** Put a fan-out back on the due list (its enqueue failed). */
  async deferFanout(who: Endpoint, at: number): Promise<void> {
    this.roundTrips++;
    await this.options.redis.zadd(this.options.keys.dueOf(who), at, endpointKey(who));
  }
}
