/**
 * Growth of the directory (issue 14 item 5, RFC 2779 2.2.2): the id map and the subscriptions at
 * 10^5 and 10^6 users, on a private `redis-server` (nothing on disk, like the default deployment)
 * so the shared Redis is not filled. Each user has one message mapped both ways (canonical id ↔
 * native id, as `RedisIdMap.link` writes it) and one approved subscription (both hashes, as
 * `SubscriptionStore.put` writes it) to a presentity in a domain of 1,000 users.
 *
 *   users=                      size of the directory at this row
 *   idmap_bytes_per_user=       Redis `used_memory` growth for the id map ÷ users
 *   subs_bytes_per_user=        Redis `used_memory` growth for the subscriptions ÷ users
 *   lookup_p99_ms= / _p50_ms=   one id-map lookup (native → canonical) plus one subscription read, awaited one at a time
 *   fill_s=                     time to write this row's users
 *
 * Lookups are keyed reads (GET, HGET), never scans, so p99 must stay flat from 10^5 to 10^6 and bytes
 * per user constant (linear growth). Run: `npm run bench:growth` (GROWTH_MAX=100000 for a short run).
 */
import { Redis } from "ioredis";
import { RedisIdMap } from "../src/store/id-map.js";
import { keyspace } from "../src/store/keys.js";
import { SubscriptionStore } from "../src/presence/subscriptions.js";
import { PresenceKeys } from "../src/presence/keys.js";
import { endpoint } from "../src/model/address.js";
import { newCanonicalId, type CanonicalId } from "../src/model/ids.js";
import type { Subscription } from "../src/model/subscription.js";
import { RedisServer } from "../test/support/redis-server.js";

const SIZES = [100_000, 1_000_000].filter((n) => n <= Number(process.env.GROWTH_MAX ?? 1_000_000));
const BATCH = 2_000;
const LOOKUPS = 20_000;

const userOf = (i: number) => endpoint(`user${i}@d${i % 1000}.example.org`, "matrix");
const presentityOf = (i: number) => endpoint(`friend${i % 1000}@chat${i % 97}.example.org`, "xmpp");
const nativeOf = (i: number) => ({ network: "matrix", kind: "event", id: `$${i.toString(36)}-event-id-of-typical-length:matrix.example.org`, scope: `!room${i % 5000}:matrix.example.org` });

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info("memory");
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

async function main(): Promise<void> {
  const server = await RedisServer.start();
  const redis = new Redis(server.url);
  const idMap = new RedisIdMap(redis, keyspace("growth"));
  const subs = new SubscriptionStore(redis, new PresenceKeys("growth:"));
  const canonical: CanonicalId[] = [];
  const at = new Date().toISOString();
  let filled = 0;
  let idBytes = 0;
  let subBytes = 0;
  try {
    for (const target of SIZES) {
      const started = Date.now();
      for (let from = filled; from < target; from += BATCH) {
        const to = Math.min(target, from + BATCH);
        const m0 = await usedMemory(redis);
        const ids: Promise<void>[] = [];
        for (let i = from; i < to; i++) {
          const id = newCanonicalId();
          canonical[i] = id;
          ids.push(idMap.link(id, nativeOf(i)));
        }
        await Promise.all(ids);
        const m1 = await usedMemory(redis);
        const puts: Promise<void>[] = [];
        for (let i = from; i < to; i++) {
          const sub: Subscription = { watcher: userOf(i), presentity: presentityOf(i), state: "approved", decidedBy: "presentity", at };
          puts.push(subs.put(sub));
        }
        await Promise.all(puts);
        const m2 = await usedMemory(redis);
        idBytes += m1 - m0;
        subBytes += m2 - m1;
      }
      filled = target;
      const fillS = (Date.now() - started) / 1000;
      const times: number[] = [];
      for (let k = 0; k < LOOKUPS; k++) {
        const i = Math.floor(Math.random() * filled);
        const t0 = process.hrtime.bigint();
        const [c, s] = await Promise.all([idMap.canonicalFor(nativeOf(i)), subs.get(userOf(i), presentityOf(i))]);
        times.push(Number(process.hrtime.bigint() - t0) / 1e6);
        if (c !== canonical[i] || s?.state !== "approved") throw new Error(`lookup ${i} returned the wrong entry`);
      }
      times.sort((a, b) => a - b);
      console.log(
        `users=${filled} idmap_bytes_per_user=${(idBytes / filled).toFixed(0)} subs_bytes_per_user=${(subBytes / filled).toFixed(0)} ` +
          `total_bytes_per_user=${((idBytes + subBytes) / filled).toFixed(0)} lookup_p50_ms=${percentile(times, 0.5).toFixed(3)} ` +
          `lookup_p99_ms=${percentile(times, 0.99).toFixed(3)} fill_s=${fillS.toFixed(1)} redis_used_mb=${((await usedMemory(redis)) / 2 ** 20).toFixed(0)}`,
      );
    }
  } finally {
    redis.disconnect();
    await server.destroy();
  }
}

await main();
