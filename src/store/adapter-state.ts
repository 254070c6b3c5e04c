/**
 * {@link AdapterStateStore} over Redis: each adapter's keys live under `<prefix>:state:<network>:`
 * and its leases under `<prefix>:lease:<network>:` (src/adapter/state.ts). Failures surface as
 * ParleyError PARLEY_UNAVAILABLE so an adapter can answer its source "try later".
 */
import type { RedisClient } from "./redis.js";
import type { AdapterStateStore } from "../adapter/state.js";
import type { NetworkId } from "../model/address.js";
import { unavailable } from "./redis.js";
import type { Keyspace } from "./keys.js";

/** Acquire or renew: true when `holder` holds the lease after the call. */
const LEASE_LUA = `
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if cur then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;

/** Compare-and-delete: only the holder releases. */
const RELEASE_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

export class RedisAdapterStateStore implements AdapterStateStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keyspace,
    private readonly network: NetworkId,
  ) {}

  private k(key: string): string { return this.keys.key("state", this.network, key); }
  private leaseKey(name: string): string { return this.keys.key("lease", this.network, name); }

  async get(key: string): Promise<string | undefined> {
    try {
      return (await this.redis.get(this.k(key))) ?? undefined;
    } catch (e) { throw unavailable(e, "a state read"); }
  }

  async set(key: string, value: string, ttlSeconds?: number): Promise<void> {
    try {
      if (ttlSeconds !== undefined) await this.redis.set(this.k(key), value, "EX", positive(ttlSeconds));
      else await this.redis.set(this.k(key), value);
    } catch (e) { throw unavailable(e, "a state write"); }
  }

  async setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean> {
    try {
      return (await this.redis.set(this.k(key), value, "EX", positive(ttlSeconds), "NX")) === "OK";
    } catch (e) { throw unavailable(e, "a state write"); }
  }

  async delete(key: string): Promise<void> {
    try { await this.redis.del(this.k(key)); } catch (e) { throw unavailable(e, "a state delete"); }
  }

  async lease(name: string, holder: string, ttlMs: number): Promise<boolean> {
    try {
      return (await this.redis.eval(LEASE_LUA, 1, this.leaseKey(name), holder, Math.max(1, Math.round(ttlMs)))) === 1;
    } catch (e) { throw unavailable(e, "a lease"); }
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    try { await this.redis.eval(RELEASE_LUA, 1, this.leaseKey(name), holder); } catch (e) { throw unavailable(e, "a lease release"); }
  }

  async mapSet(map: string, field: string, value: string): Promise<void> {
    try { await this.redis.hset(this.k(map), field, value); } catch (e) { throw unavailable(e, "a state write"); }
  }

  async mapDelete(map: string, field: string): Promise<void> {
    try { await this.redis.hdel(this.k(map), field); } catch (e) { throw unavailable(e, "a state delete"); }
  }

  async mapGet(map: string, field: string): Promise<string | undefined> {
    try { return (await this.redis.hget(this.k(map), field)) ?? undefined; } catch (e) { throw unavailable(e, "a state read"); }
  }

  async mapScan(map: string, cursor: string, count: number): Promise<{ cursor: string; entries: Array<[string, string]> }> {
    try {
      const [next, flat] = await this.redis.hscan(this.k(map), cursor, "COUNT", Math.max(1, Math.round(count)));
      const entries: Array<[string, string]> = [];
      for (let i = 0; i + 1 < flat.length; i += 2) entries.push([flat[i]!, flat[i + 1]!]);
      return { cursor: next, entries };
    } catch (e) { throw unavailable(e, "a state read"); }
  }

  async recentAdd(set: string, member: string, atMs: number): Promise<void> {
    try { await this.redis.zadd(this.k(set), Math.round(atMs), member); } catch (e) { throw unavailable(e, "a state write"); }
  }

  async recentTrim(set: string, beforeMs: number): Promise<void> {
    try { await this.redis.zremrangebyscore(this.k(set), "-inf", `(${Math.round(beforeMs)}`); } catch (e) { throw unavailable(e, "a state delete"); }
  }

  async recentRange(set: string, fromMs: number, toMs: number, limit: number): Promise<Array<[string, number]>> {
    try {
      const flat = await this.redis.zrevrangebyscore(this.k(set), Math.round(toMs), Math.round(fromMs), "WITHSCORES", "LIMIT", 0, Math.max(1, Math.round(limit)));
      const out: Array<[string, number]> = [];
      for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i]!, Number(flat[i + 1])]);
      return out;
    } catch (e) { throw unavailable(e, "a state read"); }
  }
}

function positive(ttlSeconds: number): number {
  if (!(ttlSeconds > 0)) throw new RangeError(`ttlSeconds must be > 0, got ${ttlSeconds}`);
  return Math.ceil(ttlSeconds);
}
