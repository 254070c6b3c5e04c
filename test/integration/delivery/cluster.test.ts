/**
 * Delivery on a real local Redis Cluster (3 masters + 3 replicas, AOF `appendfsync always`;
 * test/support/redis-cluster.ts), with partitioned queues whose hash tags keep every key of one
 * operation in one slot (src/delivery/names.ts):
 * - order across two worker processes with injected transient failures, for rooms (issue 12);
 * - failover: during a steady stream, `kill -9` of one master; its replica is promoted and Parley
 *   goes on by itself. Prints lost_of_acked=, duplicates=, out_of_order=, stall_ms=.
 * The workers record what they "send" on the shared Redis (not the system under test). The other
 * delivery guarantees run on the cluster as the cluster variant of their own tests:
 * order-processes (one-to-one order), worker-crash, redis-outage ("Redis crash").
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDeliveryService, type BullDeliveryService } from "../../../src/delivery/index.js";
import type { DeliveryJobSpec } from "../../../src/delivery/types.js";
import { isParleyError } from "../../../src/errors/index.js";
import type { TestPayload } from "../../support/delivery-worker-process.js";
import { RedisCluster } from "../../support/redis-cluster.js";
import { cleanup, NET, SHARED_REDIS, uniquePrefix, waitFor } from "./helpers.js";
import { spawnWorker, stopWorker, type WorkerProc } from "./processes.js";
import { Redis } from "ioredis";
import type { NetworkId } from "../../../src/model/address.js";
import { ROOM_NETS, RoomLoad } from "./room-load.js";

const service = { partitions: 6, retry: { attempts: 40, baseMs: 50, capMs: 1000 }, parkMs: 1000, lockDurationMs: 3000, stalledIntervalMs: 1000 };
let cluster: RedisCluster;
const rec = new Redis(SHARED_REDIS);
const prefixes: string[] = [];
const workers: WorkerProc[] = [];
let producer: BullDeliveryService | undefined;

/** `PARLEY_TEST_APPENDFSYNC=everysec` measures the other AOF policy (docs/operations.md). */
const appendfsync = process.env.PARLEY_TEST_APPENDFSYNC === "everysec" ? "everysec" : "always";
beforeAll(async () => { cluster = await RedisCluster.start({ appendfsync }); }, 60_000);
afterAll(async () => {
  await Promise.all(workers.map(stopWorker));
  await producer?.close();
  await cluster?.destroy();
  for (const p of prefixes) await cleanup(p);
  rec.disconnect();
});

async function rig(name: string, failRate: number, networks: readonly NetworkId[] = [NET]): Promise<{ prefix: string; producer: BullDeliveryService }> {
  const prefix = uniquePrefix(name);
  prefixes.push(prefix);
  await producer?.close();
  producer = await createDeliveryService({ networks, prefix, cluster: cluster.seeds, ...service });
  // The workers' own producer connection only starts them: patient, so a loaded machine does not fail the start.
  const cfg = { redisUrl: SHARED_REDIS, cluster: cluster.seeds, prefix, networks: [...networks], concurrency: 12, failRate, service: { ...service, commandTimeoutMs: 5000 } };
  workers.push(...(await Promise.all([spawnWorker(cfg), spawnWorker(cfg)])));
  return { prefix, producer };
}

const spec = (conv: string, i: number): DeliveryJobSpec => {
  const payload: TestPayload = { i, conv, t0: Date.now() };
  return { kind: "message", network: NET, key: `${conv}.${i}`, conversation: conv, payload };
};

/** Per conversation, the indexes received in order (duplicates included) and when each came. */
async function received(prefix: string, conv: string): Promise<number[]> {
  return (await rec.lrange(`${prefix}:t:recv:${conv}`, 0, -1)).map((s) => Number(s.split("|")[0]));
}

describe("delivery on a Redis Cluster (DESIGN §6)", () => {
  it("T-2.2.6 rooms (issue 12): two worker processes, 10% transient failures: every native room in order, none lost or duplicated", { timeout: 120_000 }, async () => {
    const { prefix, producer: p } = await rig("croom", 0.1, ROOM_NETS);
    const load = new RoomLoad(4, 3);
    for (let i = 0; i < 40; i++) await p.enqueue(Array.from({ length: 12 }, () => load.next()).flat());
    await waitFor(async () => {
      for (const [line, n] of load.sent) if ((await rec.llen(`${prefix}:t:recv:${line}`)) < n) return false;
      return true;
    }, 90_000, "every room message delivered");
    for (const [line, n] of load.sent) expect(await received(prefix, line), line).toEqual([...Array(n).keys()]);
    expect(load.jobs, "one delivery per other native room").toBe(load.messages * (ROOM_NETS.length - 1));
    console.log(`cluster_room_order rooms=${load.rooms.length} messages=${load.messages} deliveries=${load.jobs}`);
    await Promise.all(workers.splice(0).map(stopWorker));
  });

  it("T-5.4.2 failover: kill -9 of a master during a steady stream; the replica takes over, nothing acked is lost", { timeout: 180_000 }, async () => {
    const { prefix, producer: p } = await rig("cfail", 0);
    const CONVS = 24, RATE = 150;
    const acked: string[] = [];
    let refused = 0;
    const next = new Map<string, number>();
    const t0 = Date.now();
    let killedAt = 0;
    const victim = (await cluster.masters())[0]!;
    for (let tick = 0; Date.now() - t0 < 14_000; tick++) {
      if (!killedAt && Date.now() - t0 > 4000) { killedAt = Date.now(); void victim.kill9(); }
      const batch: DeliveryJobSpec[] = [];
      for (let k = 0; k < RATE / 20; k++) {
        const conv = `f${(tick * 7 + k) % CONVS}`;
        const i = next.get(conv) ?? 0;
        next.set(conv, i + 1);
        batch.push(spec(conv, i));
      }
      // Each message is enqueued on its own, as a source would offer it: acked or refused "try later".
      await Promise.all(batch.map(async (s) => {
        try { await p.enqueue([s]); acked.push(s.key); } catch (e) {
          if (!isParleyError(e, "PARLEY_UNAVAILABLE")) throw e;
          refused++;
        }
      }));
      await new Promise((r) => setTimeout(r, 50)); // the offered rate's clock
    }
    const ackedSet = new Set(acked);
    await waitFor(async () => {
      let n = 0;
      for (let c = 0; c < CONVS; c++) n += new Set((await received(prefix, `f${c}`)).filter((i) => ackedSet.has(`f${c}.${i}`))).size;
      return n >= acked.length;
    }, 90_000, "every acked message delivered").catch(() => undefined);
    let lost = 0, duplicates = 0, outOfOrder = 0;
    for (let c = 0; c < CONVS; c++) {
      const got = await received(prefix, `f${c}`);
      const seen = new Set<number>();
      let last = -1;
      for (const i of got) {
        if (seen.has(i)) { duplicates++; continue; }
        seen.add(i);
        if (i < last) outOfOrder++;
        last = i;
      }
      for (const key of acked.filter((k) => k.startsWith(`f${c}.`))) if (!seen.has(Number(key.split(".")[1]))) lost++;
    }
    // The stall: the longest gap between consecutive deliveries (any conversation) after the kill.
    const times = (await Promise.all([...Array(CONVS).keys()].map(async (c) => (await rec.lrange(`${prefix}:t:recv:f${c}`, 0, -1)).map((s) => Number(s.split("|")[3]))))).flat();
    const at = times.filter((t) => t >= killedAt).sort((a, b) => a - b);
    let stall = 0;
    for (let k = 1; k < at.length; k++) stall = Math.max(stall, at[k]! - at[k - 1]!);
    if (at.length > 0) stall = Math.max(stall, at[0]! - killedAt);
    console.log(`cluster_failover acked=${acked.length} refused_try_later=${refused} lost_of_acked=${lost} duplicates=${duplicates} out_of_order=${outOfOrder} stall_ms=${stall} appendfsync=${appendfsync}`);
    expect(lost).toBe(0);
    expect(outOfOrder).toBe(0);
    expect(await cluster.masters()).toHaveLength(3);
  });
});
