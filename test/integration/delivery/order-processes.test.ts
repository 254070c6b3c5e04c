/**
 * DESIGN §3 "Order": per-conversation order with two worker processes and injected transient
 * failures, and one recipient failing for 30 s without slowing the other conversations. The same
 * test runs on one Redis and on a local Redis Cluster (issue 14: 3 masters + 3 replicas, the
 * default 8 partitions per queue, which must spread over more than one master).
 */
import { describe, expect, it } from "vitest";
import type { DeliveryJobSpec } from "../../../src/delivery/types.js";
import type { TestPayload } from "../../support/delivery-worker-process.js";
import { partitionOf, queueName } from "../../../src/delivery/names.js";
import { enqueueAsSource, NET, SHARED_REDIS, uniquePrefix, waitFor } from "./helpers.js";
import { useProcessRig } from "./processes.js";

const RATE = 100; // messages per second, open loop, spread over the conversations
const CONVS = 20;
const FAIL_MS = 30_000;
/** Partitions per queue on a cluster: the default there (src/delivery/options.ts). */
const CLUSTER_PARTITIONS = 8;
const service = { retry: { attempts: 40, baseMs: 50, capMs: 2000 }, parkMs: 2000, lockDurationMs: 5000, stalledIntervalMs: 2000,
  // Both processes take jobs of the same queue at once — what leased sharing (the default) allows
  // only while it rebalances or takes over: the order machinery under concurrent consumers.
  queueSharing: "every-process" as const };

describe.each([{ on: "one Redis", cluster: false }, { on: "a Redis Cluster", cluster: true }])("per-conversation order across worker processes on $on (DESIGN §3, RFC 2779 4.3.1, 2.2.6)", ({ cluster }) => {
  const prefix = uniquePrefix(cluster ? "corder" : "order");
  const base = `${prefix}:t`;
  let tryLater = 0; // enqueues answered "try later" and retried, as a source would
  const rig = useProcessRig({ prefix, service, cluster, spawn: { cfg: { redisUrl: SHARED_REDIS, prefix, networks: [NET], concurrency: 16, failRate: 0.1, downable: ["F"], service }, count: 2 } });

  /** Enqueue at RATE msg/s for `ms`, round-robin over `convs`; returns the count per conversation. */
  async function offer(convs: readonly string[], ms: number): Promise<Map<string, number>> {
    const sent = new Map(convs.map((c) => [c, 0]));
    const start = Date.now();
    let n = 0;
    while (Date.now() - start < ms) {
      const due = Math.floor(((Date.now() - start) / 1000) * RATE);
      const specs: DeliveryJobSpec[] = [];
      for (; n < due; n++) {
        const conv = convs[n % convs.length]!;
        const i = sent.get(conv)!;
        sent.set(conv, i + 1);
        const payload: TestPayload = { i, conv, t0: Date.now() };
        specs.push({ kind: "message", network: NET, key: `${conv}.${i}`, conversation: conv, payload });
      }
      if (specs.length > 0) tryLater += await enqueueAsSource(rig.producer, specs);
      await new Promise((r) => setTimeout(r, 5)); // the offered rate's clock, not a synchronisation
    }
    return sent;
  }

  async function received(conv: string): Promise<{ i: number; ms: number; pid: number }[]> {
    return (await rig.rec.lrange(`${base}:recv:${conv}`, 0, -1)).map((s) => {
      const [i, ms, pid] = s.split("|").map(Number);
      return { i: i!, ms: ms!, pid: pid! };
    });
  }

  async function waitAll(sent: Map<string, number>, timeoutMs: number): Promise<void> {
    await waitFor(async () => {
      for (const [c, n] of sent) if ((await rig.rec.llen(`${base}:recv:${c}`)) < n) return false;
      return true;
    }, timeoutMs, "every message delivered");
  }

  function p99(xs: number[]): number {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.ceil(s.length * 0.99) - 1)]!;
  }

  async function checkInOrder(sent: Map<string, number>): Promise<{ latencies: number[]; pids: Set<number> }> {
    const latencies: number[] = [];
    const pids = new Set<number>();
    for (const [c, n] of sent) {
      const got = await received(c);
      expect(got.map((g) => g.i), `conversation ${c}: in order, none lost, none duplicated`).toEqual([...Array(n).keys()]);
      for (const g of got) { latencies.push(g.ms); pids.add(g.pid); }
    }
    return { latencies, pids };
  }

  it("T-2.2.6 two processes, 10% transient failures: in order, none lost or duplicated; a recipient failing 30 s leaves the others' p99 in bound", { timeout: 120_000 }, async () => {
    // Baseline without the failing recipient, measured before and after the failing phase: the
    // machine (2 shared cores) is noisy, and bracketing keeps a quiet spell from setting the bar.
    const runBaseline = async (tag: string) => {
      const sent = await offer([...Array(CONVS).keys()].map((i) => `${tag}${i}`), 8_000);
      await waitAll(sent, 20_000);
      return checkInOrder(sent);
    };
    const b = await runBaseline("b");
    expect(b.pids.size, "both worker processes delivered").toBe(2);

    const otherConvs = [...Array(CONVS).keys()].map((i) => `o${i}`);
    await rig.rec.set(`${base}:down:F`, "1", "PX", FAIL_MS);
    const withFailing = await offer([...otherConvs, "F"], FAIL_MS);
    const others = new Map([...withFailing].filter(([c]) => c !== "F"));
    await waitAll(others, 20_000);
    const o = await checkInOrder(others);
    await waitAll(new Map([["F", withFailing.get("F")!]]), 30_000);
    await checkInOrder(new Map([["F", withFailing.get("F")!]]));
    const fFirst = (await received("F"))[0]!;

    const a = await runBaseline("a");

    const p99Before = p99(b.latencies);
    const p99After = p99(a.latencies);
    const p99Base = Math.max(p99Before, p99After);
    const p99Fail = p99(o.latencies);
    console.log(`order_test backend=${cluster ? "cluster" : "redis"} try_later=${tryLater} messages_baseline=${b.latencies.length + a.latencies.length} messages_with_failing=${o.latencies.length + withFailing.get("F")!} failing_conversation_messages=${withFailing.get("F")}`);
    console.log(`other_p99_ms_baseline_before=${p99Before} other_p99_ms_baseline_after=${p99After} other_p99_ms_with_failing=${p99Fail} failing_first_latency_ms=${fFirst.ms}`);
    expect(fFirst.ms, "the failing recipient really failed for ~30 s").toBeGreaterThanOrEqual(FAIL_MS - 2000);
    expect(p99Fail).toBeLessThanOrEqual(2 * p99Base + 50);
    if (rig.cluster) {
      const convs = ["b", "o", "a"].flatMap((tag) => [...Array(CONVS).keys()].map((i) => `${tag}${i}`)).concat("F");
      const queues = [...new Set(convs.map((c) => queueName("message", NET, partitionOf(c, CLUSTER_PARTITIONS))))];
      const masters = await rig.cluster.mastersServing(queues);
      console.log(`order_test_cluster partitions_used=${queues.length} masters_used=${masters}`);
      expect(masters, "the partitions spread over more than one master").toBeGreaterThan(1);
    }
  });
});
