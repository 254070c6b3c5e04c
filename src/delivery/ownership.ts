/**
 * Which of a network's delivery queues this process serves (issue 14: per-process CPU per message
 * must not grow with the number of worker processes).
 *
 * Without it, every worker process runs a BullMQ worker for every queue: N processes race for
 * each job (BullMQ's fetch leaves a marker behind that wakes one more blocked worker, in another
 * process, for an empty fetch), and each process pays every queue's stalled check every second.
 * Instead the worker processes of a network share its queues: each process that takes the
 * network's deliveries holds a lease in the network's member set (a sorted set, member → expiry
 * on Redis' clock) and renews it every `leaseMs / 4`; queue `i` of the network (kinds ×
 * partitions, names.ts order) is served by the `i mod n`-th live member (ids sorted). Every
 * member reads the same set, so the assignment converges within one renewal.
 *
 * Ownership only decides who *fetches*; it is never what keeps a guarantee. Order, no loss and no
 * duplicates hold with any number of workers on a queue (order.ts, runner.ts), so the moments
 * when two processes both serve a queue (one joined, the other has not renewed yet) are safe. What
 * it must bound is the time a queue has nobody: a member that dies stops renewing and drops out
 * of the set `leaseMs` later, the others see that at their next renewal and start the queue's
 * worker. The renewal that drops a lapsed member also gives back the jobs its workers were
 * running (each member registers its workers' ids in the network's `workers` map; bullmq.ts
 * `releaseLocksOf`), so the new worker's first stalled check re-runs them at once instead of
 * after their locks expire: a crash stalls a queue for about leaseMs + leaseMs / 4 (2.5 s with the
 * defaults; before, max of that and lockDurationMs + stalledIntervalMs, up to 4 s, which the
 * chaos test measured as 3.0–3.4 s for the job running at the kill). A process that stops
 * gracefully leaves the set first, so the others take over at once.
 */
import { randomBytes } from "node:crypto";
import type { Logger } from "../log/logger.js";
import type { NetworkId } from "../model/address.js";
import type { Keyspace } from "../store/keys.js";
import type { RedisClient } from "./bullmq.js";

/** Renew (or leave) this member's lease on Redis' clock, drop expired members; returns {live, dropped now}. */
const BEAT_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lapsed = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if ARGV[3] == '1' then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 10)
else
  redis.call('ZREM', KEYS[1], ARGV[1])
end
return {redis.call('ZRANGE', KEYS[1], 0, -1), lapsed}
`;

type BeatClient = RedisClient & { parleyOwnershipBeat(key: string, id: string, leaseMs: number, join: "1" | "0"): Promise<[string[], string[]]> };

export interface OwnershipDeps {
  readonly redis: RedisClient;
  readonly keys: Keyspace;
  readonly leaseMs: number;
  /** False (`queueSharing: every-process`): no lease, this process serves every queue of the networks it takes. */
  readonly leased: boolean;
  readonly log: Logger;
  /** The live members of `network` changed: the caller re-applies {@link PartitionOwnership.owns}. */
  readonly onChange: (network: NetworkId) => void;
  /** The BullMQ worker ids of this process's workers for `network` (registered with its membership). */
  readonly workerIds?: (network: NetworkId) => readonly string[];
  /** Members of `network` whose lease lapsed (dead): give back the jobs these workers of theirs were running. */
  readonly onLapsed?: (network: NetworkId, workerIds: readonly string[]) => Promise<void>;
}

export class PartitionOwnership {
  /** This process's member id. */
  readonly id = `${process.pid}-${randomBytes(6).toString("hex")}`;
  /** Networks this process takes deliveries for (it holds a lease in their member sets). */
  private readonly joined = new Set<NetworkId>();
  /** Live members per network, sorted, as last read. */
  private readonly members = new Map<NetworkId, readonly string[]>();
  private timer: NodeJS.Timeout | undefined;
  private beating = false;

  constructor(private readonly d: OwnershipDeps) {
    const redis = d.redis as BeatClient;
    if (typeof redis.parleyOwnershipBeat !== "function") redis.defineCommand("parleyOwnershipBeat", { numberOfKeys: 1, lua: BEAT_LUA });
  }

  /** Whether this process serves queue `index` (kinds × partitions order) of `network`. */
  owns(network: NetworkId, index: number): boolean {
    if (!this.joined.has(network)) return false;
    if (!this.d.leased) return true;
    const live = this.members.get(network);
    // Not read yet (or Redis lost our lease while unreachable): serve everything until the next
    // renewal says otherwise; serving a queue too many is safe, serving none is a stall.
    if (!live || !live.includes(this.id)) return true;
    return live[index % live.length] === this.id;
  }

  /** Join or leave `network`'s member set now (and keep renewing while joined). */
  async set(network: NetworkId, member: boolean): Promise<void> {
    if (member) this.joined.add(network); else this.joined.delete(network);
    if (!this.d.leased) return;
    this.timer ??= setInterval(() => void this.renew(), Math.max(50, Math.floor(this.d.leaseMs / 4)));
    this.timer.unref();
    if (member) await this.register(network, true);
    await this.beat(network);
  }

  /** Leave every member set (a graceful stop: the others take over at once) and stop renewing. */
  async leaveAll(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    const networks = [...this.joined];
    this.joined.clear();
    if (!this.d.leased) return;
    await Promise.all(networks.map(async (n) => { await this.beat(n); await this.register(n, false); }));
  }

  /** The network's map of worker id → member id: this process's workers added, or removed at a graceful leave. */
  private async register(network: NetworkId, add: boolean): Promise<void> {
    const ids = this.d.workerIds?.(network) ?? [];
    if (ids.length === 0) return;
    const key = this.d.keys.key("dlv", "workers", network);
    try {
      if (add) await this.d.redis.hset(key, Object.fromEntries(ids.map((w) => [w, this.id])));
      else await this.d.redis.hdel(key, ...ids);
    } catch (e) {
      this.d.log.debug({ err: e, network }, "delivery workers not registered; a crash of this process is then noticed by its job locks' expiry");
    }
  }

  /** Give back the running jobs of members this renewal dropped (their lease lapsed), then forget their workers. */
  private async reap(network: NetworkId, lapsed: readonly string[]): Promise<void> {
    if (!this.d.onLapsed) return;
    const key = this.d.keys.key("dlv", "workers", network);
    try {
      const dead = new Set(lapsed);
      const ids = Object.entries(await this.d.redis.hgetall(key)).filter(([, m]) => dead.has(m)).map(([w]) => w);
      if (ids.length === 0) return;
      await this.d.onLapsed?.(network, ids);
      await this.d.redis.hdel(key, ...ids);
      this.d.log.info({ network, lapsed: lapsed.length }, "delivery worker process gone (its lease lapsed): the jobs it was running go again now");
    } catch (e) {
      this.d.log.warn({ err: e, network }, "the jobs of a gone delivery worker process were not given back; they go again when their locks expire");
    }
  }

  private async renew(): Promise<void> {
    if (this.beating) return; // a renewal still waiting on Redis: do not pile up
    this.beating = true;
    try {
      for (const network of [...this.joined]) await this.beat(network);
    } finally { this.beating = false; }
  }

  /** Renew this process's lease in `network`'s set, or leave it if it no longer takes the network (read when sent: a renewal in flight never re-joins after a leave). */
  private async beat(network: NetworkId): Promise<void> {
    const join = this.joined.has(network);
    let live: string[];
    let lapsed: string[];
    try {
      [live, lapsed] = await (this.d.redis as BeatClient).parleyOwnershipBeat(this.d.keys.key("dlv", "members", network), this.id, this.d.leaseMs, join ? "1" : "0");
    } catch (e) {
      this.d.log.debug({ err: e, network }, "delivery ownership renewal failed; keeping the current assignment");
      return;
    }
    // Before the reassignment: a worker that starts serving a dead member's queue checks for stalled jobs at once.
    // Never this process's own (its lease lapsed while it was held up: its jobs are still running here).
    const dead = lapsed.filter((m) => m !== this.id);
    if (dead.length > 0) await this.reap(network, dead);
    live.sort();
    const before = this.members.get(network);
    this.members.set(network, live);
    if (!before || before.join() !== live.join()) {
      this.d.log.info({ network, members: live.length, member: this.id }, "delivery workers of the network changed; queues reassigned");
      this.d.onChange(network);
    }
  }
}
