/**
 * Rate limits shared by every Parley process on one Redis or Redis Cluster (issue 14): a generic
 * cell rate algorithm (GCRA, a token bucket kept as one "theoretical arrival time") in one Lua
 * script over one key, so a check is one round trip, atomic, and lands on any cluster slot. The
 * clock is Redis' own (TIME), so processes on hosts whose clocks differ count alike.
 *
 *   <prefix>:rl:<scope>:<bucket>:<sha1(key)>   string: the bucket's theoretical arrival time (ms)
 *
 * A key expires when its bucket is full again, so an idle sender costs nothing.
 */
import { createHash } from "node:crypto";
import type { RateRule, RateVerdict } from "../adapter/limits.js";
import { Script } from "../presence/script.js";
import type { Keyspace } from "../store/keys.js";
import type { RedisClient } from "../store/redis.js";

/**
 * KEYS[1] bucket; ARGV[1] emission interval ms (60000 / perMinute), ARGV[2] burst tolerance ms
 * (interval × (burst − 1)). Returns {1, 0} when allowed, {0, retryAfterMs} when not.
 */
const GCRA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local allowAt = tat - tolerance
if now < allowAt then return {0, math.ceil(allowAt - now)} end
local nextTat = tat + interval
redis.call('SET', KEYS[1], tostring(nextTat), 'PX', math.max(1, math.ceil(nextTat - now)))
return {1, 0}
`;

const script = new Script(GCRA);

/** Key material is hashed: a key's length (an address) never grows Redis keys. */
const digest = (key: string): string => createHash("sha1").update(key).digest("base64url").slice(0, 20);

export class RedisRateLimiter {
  constructor(private readonly redis: RedisClient, private readonly keys: Keyspace) {}

  /** Count one event of `key` in `scope`/`bucket`; a perMinute of 0 never limits. */
  async take(scope: string, bucket: string, key: string, rule: RateRule): Promise<RateVerdict> {
    if (rule.perMinute <= 0) return { allowed: true, retryAfterMs: 0 };
    const interval = 60_000 / rule.perMinute;
    const burst = Math.max(1, rule.burst ?? rule.perMinute);
    const r = (await script.run(this.redis, [this.keys.key("rl", scope, bucket, digest(key))], [interval, interval * (burst - 1)])) as [number, number];
    return { allowed: r[0] === 1, retryAfterMs: Number(r[1]) };
  }
}
