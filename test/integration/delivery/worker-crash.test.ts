/**
 * RFC 2779 5.4.2 / DESIGN §3 "idempotent delivery": `kill -9` of a worker process in the middle of
 * 5,000 messages, restart, and every message is delivered; the only duplicates allowed are those
 * whose first send fell in the crash window (sent by the killed process, marker not yet written).
 * The same test runs on one Redis and on a local Redis Cluster (3 masters + 3 replicas, issue 14).
 */
import { describe, expect, it } from "vitest";
import type { DeliveryJobSpec } from "../../../src/delivery/types.js";
import type { TestPayload } from "../../support/delivery-worker-process.js";
import { enqueueAsSource, NET, SHARED_REDIS, uniquePrefix, waitFor } from "./helpers.js";
import { kill9, spawnWorker, useProcessRig } from "./processes.js";

const N = 5000;
const CONVS = 50;
const service = { parkMs: 1000, lockDurationMs: 2000, stalledIntervalMs: 1000, retry: { attempts: 10, baseMs: 50, capMs: 1000 } };

describe.each([{ on: "one Redis", cluster: false }, { on: "a Redis Cluster", cluster: true }])("worker crash on $on (RFC 2779 5.4.2)", ({ cluster }) => {
  const prefix = uniquePrefix(cluster ? "ccrash" : "crash");
  const base = `${prefix}:t`;
  const rig = useProcessRig({ prefix, service, cluster });
  const totalReceived = async (): Promise<number> => {
    let n = 0;
    for (let c = 0; c < CONVS; c++) n += await rig.rec.llen(`${base}:recv:c${c}`);
    return n;
  };

  it("T-5.4.2 kill -9 of a worker mid-stream: nothing lost, duplicates only in the crash window, order kept", { timeout: 120_000 }, async () => {
    const cfg = { redisUrl: SHARED_REDIS, cluster: rig.seeds, prefix, networks: [NET], concurrency: 16, logSteps: true, service };
    const [victim, survivor] = await Promise.all([spawnWorker(cfg), spawnWorker(cfg)]);
    rig.workers.push(victim, survivor);
    const specs: DeliveryJobSpec[] = [];
    for (let i = 0; i < N / CONVS; i++) {
      for (let c = 0; c < CONVS; c++) {
        const payload: TestPayload = { i, conv: `c${c}`, t0: Date.now() };
        specs.push({ kind: "message", network: NET, key: `c${c}.${i}`, conversation: `c${c}`, payload });
      }
    }
    for (let s = 0; s < specs.length; s += 500) await enqueueAsSource(rig.producer, specs.slice(s, s + 500));
    await waitFor(async () => (await totalReceived()) >= 1500, 60_000, "1,500 deliveries before the kill");
    await kill9(victim);
    await rig.rec.rpush(`${base}:log`, `KILL|-|${victim.pid}`);
    rig.workers.push(await spawnWorker(cfg));
    await waitFor(async () => (await totalReceived()) >= N, 60_000, `all ${N} delivered`);
    await waitFor(async () => { const c = (await rig.producer.counts())["message-xmpp"]!; return c.active === 0 && c.waiting === 0 && c.delayed === 0; }, 20_000, "empty queue");

    // Tally: lost, duplicates, and duplicates whose first send was the killed process's last act.
    const log = (await rig.rec.lrange(`${base}:log`, 0, -1)).map((l) => l.split("|") as [string, string, string]);
    const killAt = log.findIndex(([e]) => e === "KILL");
    const sends = new Map<string, { at: number; pid: number }[]>();
    log.forEach(([e, key, pid], at) => { if (e === "sent") sends.set(key, [...(sends.get(key) ?? []), { at, pid: Number(pid) }]); });
    let lost = 0, duplicates = 0, inWindow = 0;
    for (const s of specs) {
      const list = sends.get(s.key) ?? [];
      if (list.length === 0) lost++;
      if (list.length > 1) {
        duplicates += list.length - 1;
        const [first, ...rest] = list;
        if (list.length === 2 && first!.pid === victim.pid && first!.at < killAt && rest.every((r) => r.at > killAt)) inWindow++;
      }
    }
    const final = await rig.rec.llen(`${base}:final`);
    const started = new Set(log.filter(([e, , pid]) => e === "start" && Number(pid) === victim.pid).map(([, k]) => k));
    const victimSent = new Set(log.filter(([e, , pid]) => e === "sent" && Number(pid) === victim.pid).map(([, k]) => k));
    const interrupted = [...started].filter((k) => !victimSent.has(k)).length;
    console.log(`worker_crash backend=${cluster ? "cluster" : "redis"} lost=${lost} duplicates=${duplicates} in_window=${inWindow} final_failures=${final} interrupted_sends=${interrupted} kill_after_sends=${log.slice(0, killAt).filter(([e]) => e === "sent").length}`);
    expect(lost).toBe(0);
    expect(duplicates).toBe(inWindow);
    expect(final).toBe(0);
    // Order: first deliveries of every conversation in enqueue order.
    for (let c = 0; c < CONVS; c++) {
      const firsts: number[] = [];
      const seen = new Set<number>();
      for (const entry of await rig.rec.lrange(`${base}:recv:c${c}`, 0, -1)) {
        const i = Number(entry.split("|")[0]);
        if (!seen.has(i)) { seen.add(i); firsts.push(i); }
      }
      expect(firsts, `conversation c${c} in order`).toEqual([...Array(N / CONVS).keys()]);
    }
  });
});
