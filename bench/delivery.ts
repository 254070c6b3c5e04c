/**
 * `npm run bench:delivery` — throughput and latency of delivery (DESIGN §3; RFC 2779 4.3.1).
 * Prints `key=value` lines:
 *   parley_msgs_per_s        N messages (1,000 conversations) through the whole core, as issue 2
 *                            asks: gateway accept (validate, route, access policy) → DeliveryService
 *                            → worker → a test-double adapter that records them; one message per
 *                            accept call (as stanzas arrive), `concurrency` calls in flight
 *   bullmq_floor_msgs_per_s  the same N jobs through a bare BullMQ Queue (addBulk 1,000) + Worker,
 *                            same concurrency, payload and removeOnComplete
 *   ratio                    parley / floor
 *   trace_on_msgs_per_s,     the whole core with the per-message trace on and off (issue 17), the
 *   trace_off_msgs_per_s,    median of `trace_runs` pairs of back-to-back runs in alternating order
 *   trace_ratio              after a warm-up of each (trace=5, BENCH_TRACE_RUNS); trace_ratio is the
 *                            median of the per-pair on/off ratios (goal: at least 0.9)
 *   load_average_1m*         the machine's load at the start and the end
 *   p50_ms, p99_ms           accept → adapter latency at a fixed offered rate (open loop), one
 *                            message per accept call (after a warm-up of 500 messages)
 *   bullmq_floor_p50_ms/p99  the same open loop through a bare Queue.add + Worker: the machine's
 *                            own floor at that moment (2 shared cores: other load shows up here)
 *   delivery_layer_*         the DeliveryService alone (enqueue in batches of 1,000 → handler), to
 *                            tell the queueing's share from the accept path's
 *   *_node_cpu_us_per_msg,   CPU per message of this process and of Redis in the throughput runs
 *   *_redis_cpu_us_per_msg   (where the time goes; Redis's figure includes other clients of a
 *                            shared Redis — use private=1 for a clean one)
 * Arguments or environment: n=20000 (BENCH_N), rate=1000 (BENCH_RATE), seconds=10 (BENCH_SECONDS),
 * concurrency=32 (BENCH_CONCURRENCY), redis=redis://127.0.0.1:6379 (BENCH_REDIS), private=1
 * (BENCH_PRIVATE_REDIS: start a private redis-server without persistence instead), only=trace
 * (BENCH_ONLY: just the trace on/off comparison).
 */
import { randomBytes } from "node:crypto";
import { loadavg } from "node:os";
import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import { createDeliveryService, type BullDeliveryService } from "../src/delivery/index.js";
import type { DeliveryJob, DeliveryJobSpec } from "../src/delivery/types.js";
import { asNetworkId } from "../src/model/address.js";
import { deleteKeysUnder } from "../src/store/keys.js";
import { RedisServer } from "../test/support/redis-server.js";
import { benchMessage, gatewayRig, sentAt } from "./gateway-rig.js";
import { traceOverhead, type Cost } from "./trace-overhead.js";

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.split("=") as [string, string]));
const num = (k: string, env: string, d: number) => Number(args[k] ?? process.env[env] ?? d);
const N = num("n", "BENCH_N", 20_000);
const RATE = num("rate", "BENCH_RATE", 1000);
const SECONDS = num("seconds", "BENCH_SECONDS", 10);
const CONCURRENCY = num("concurrency", "BENCH_CONCURRENCY", 32);
let REDIS = args.redis ?? process.env.BENCH_REDIS ?? "redis://127.0.0.1:6379";
const PRIVATE = (args.private ?? process.env.BENCH_PRIVATE_REDIS) === "1";
const TRACE_RUNS = num("trace", "BENCH_TRACE_RUNS", 5);
const ONLY_TRACE = (args.only ?? process.env.BENCH_ONLY) === "trace";
const NET = asNetworkId("xmpp");
const CONVERSATIONS = 1000;
/** Messages sent (and not measured) before the latency run. */
const WARMUP = 500;
/** A typical canonical text message, ~300 bytes of JSON. */
const BODY = randomBytes(90).toString("base64");

export type EnqueueFn = (specs: readonly DeliveryJobSpec[]) => Promise<void>;
interface Payload { readonly t0: number; readonly body: string }

function spec(i: number, t0: number): DeliveryJobSpec {
  const conv = `alice${i % CONVERSATIONS}@chat.example.org>bob@matrix.example.org`;
  return { kind: "message", network: NET, key: `m${i}.bob@matrix.example.org`, conversation: conv, payload: { t0, body: BODY } satisfies Payload };
}

/** The enqueue under test; replace to bench a longer path (e.g. the gateway's accept). */
function enqueueVia(svc: BullDeliveryService): EnqueueFn {
  return (specs) => svc.enqueue(specs);
}


async function redisCpuUs(admin: Redis): Promise<number> {
  const info = await admin.info("cpu");
  const f = (k: string) => Number(new RegExp(`^${k}:([0-9.]+)`, "m").exec(info)?.[1] ?? 0);
  return (f("used_cpu_user") + f("used_cpu_sys")) * 1e6;
}

/** Run `body` (which moves N messages) and return its rate and CPU per message. */
async function measure(admin: Redis, body: () => Promise<number>): Promise<Cost> {
  const r0 = await redisCpuUs(admin);
  const c0 = process.cpuUsage();
  const rate = await body();
  const c = process.cpuUsage(c0);
  const r1 = await redisCpuUs(admin);
  return { rate, nodeUs: (c.user + c.system) / N, redisUs: (r1 - r0) / N };
}

function counter(target: number) {
  let n = 0;
  let done: () => void = () => {};
  const finished = new Promise<void>((r) => { done = r; });
  return { hit() { if (++n === target) done(); }, finished, get n() { return n; } };
}

async function parleyThroughput(prefix: string): Promise<number> {
  const svc = await createDeliveryService({ networks: [NET], prefix, redisUrl: REDIS, concurrency: CONCURRENCY });
  const c = counter(N);
  await svc.startWorkers({ async deliver() { c.hit(); }, async onFinalFailure() {} });
  const enqueue = enqueueVia(svc);
  const t0 = performance.now();
  for (let s = 0; s < N; s += 1000) {
    const batch: DeliveryJobSpec[] = [];
    for (let i = s; i < Math.min(N, s + 1000); i++) batch.push(spec(i, Date.now()));
    await enqueue(batch);
  }
  await c.finished;
  const rate = N / ((performance.now() - t0) / 1000);
  await svc.close();
  return rate;
}

async function bullmqFloor(prefix: string): Promise<number> {
  const connection = new Redis(REDIS, { maxRetriesPerRequest: null });
  const queue = new Queue("floor", { connection, prefix });
  const c = counter(N);
  const worker = new Worker("floor", async () => { c.hit(); }, { connection, prefix, concurrency: CONCURRENCY });
  await worker.waitUntilReady();
  const t0 = performance.now();
  for (let s = 0; s < N; s += 1000) {
    const batch = [];
    for (let i = s; i < Math.min(N, s + 1000); i++) {
      batch.push({ name: "message", data: { t0: Date.now(), body: BODY }, opts: { jobId: `k_m${i}`, removeOnComplete: true, attempts: 12 } });
    }
    await queue.addBulk(batch);
  }
  await c.finished;
  const rate = N / ((performance.now() - t0) / 1000);
  await worker.close();
  await queue.close();
  connection.disconnect();
  return rate;
}

/** N messages through the gateway's accept path, `CONCURRENCY` accept calls in flight. */
async function gatewayThroughput(prefix: string, trace = true): Promise<number> {
  const c = counter(N);
  const gw = await gatewayRig({ redisUrl: REDIS, prefix, concurrency: CONCURRENCY, onDeliver: () => c.hit(), trace });
  const t0 = performance.now();
  let next = 0;
  const lane = async () => { while (next < N) { const i = next++; await gw.accept([benchMessage(i, Date.now(), BODY, CONVERSATIONS)]); } };
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
  await c.finished;
  const rate = N / ((performance.now() - t0) / 1000);
  await gw.close();
  return rate;
}

const now = () => performance.timeOrigin + performance.now();

interface LatencyRig { enqueue: EnqueueFn; close(): Promise<void> }

/** Parley: the DeliveryService with a handler that records enqueue → deliver latency. */
async function parleyRig(prefix: string, lat: number[], hit: () => void): Promise<LatencyRig> {
  const svc = await createDeliveryService({ networks: [NET], prefix, redisUrl: REDIS, concurrency: CONCURRENCY });
  await svc.startWorkers({
    async deliver(job: DeliveryJob) { lat.push(now() - (job.payload as Payload).t0); hit(); },
    async onFinalFailure() {},
  });
  return { enqueue: enqueueVia(svc), close: () => svc.close() };
}

/** The whole core: each spec becomes one canonical message accepted by the gateway. */
async function gatewayLatencyRig(prefix: string, lat: number[], hit: () => void): Promise<LatencyRig> {
  const gw = await gatewayRig({ redisUrl: REDIS, prefix, concurrency: CONCURRENCY, onDeliver: (m) => { lat.push(now() - sentAt(m)); hit(); } });
  let i = 0;
  return {
    enqueue: (specs) => gw.accept(specs.map((s) => benchMessage(i++, (s.payload as Payload).t0, BODY, CONVERSATIONS))),
    close: () => gw.close(),
  };
}

/** The floor: one Queue.add per message into a bare BullMQ worker (same machine load, same rate). */
async function floorRig(prefix: string, lat: number[], hit: () => void): Promise<LatencyRig> {
  const connection = new Redis(REDIS, { maxRetriesPerRequest: null });
  const queue = new Queue("floor", { connection, prefix });
  const worker = new Worker("floor", async (job) => { lat.push(now() - (job.data as Payload).t0); hit(); }, { connection, prefix, concurrency: CONCURRENCY });
  await worker.waitUntilReady();
  return {
    enqueue: async (specs) => { for (const s of specs) await queue.add("message", s.payload, { jobId: `k_${s.key}`, removeOnComplete: true }); },
    close: async () => { await worker.close(); await queue.close(); connection.disconnect(); },
  };
}

async function latency(prefix: string, makeRig: typeof parleyRig): Promise<{ p50: number; p99: number; count: number }> {
  const total = RATE * SECONDS;
  const lat: number[] = [];
  const c = counter(WARMUP + total);
  const rig = await makeRig(prefix, lat, () => c.hit());
  const enqueue = rig.enqueue;
  // Warm up (JIT, Lua script loading on fresh connections), then measure.
  for (let i = 0; i < WARMUP; i++) await enqueue([spec(10_000_000 + i, now())]);
  while (c.n < WARMUP) await new Promise((r) => setTimeout(r, 5));
  lat.length = 0;
  const start = performance.now();
  let sent = 0;
  const inflight = new Set<Promise<void>>();
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * RATE));
      for (; sent < due; sent++) {
        const p = enqueue([spec(sent, now())]).finally(() => inflight.delete(p));
        inflight.add(p);
      }
      if (sent >= total) { clearInterval(tick); resolve(); }
    }, 1);
  });
  await Promise.all(inflight);
  await c.finished;
  await rig.close();
  lat.sort((a, b) => a - b);
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.ceil(lat.length * p) - 1)]!;
  return { p50: q(0.5), p99: q(0.99), count: lat.length };
}

async function main(): Promise<void> {
  const server = PRIVATE ? await RedisServer.start() : undefined;
  if (server) REDIS = server.url;
  try { await runAll(); } finally { await server?.destroy(); }
}

async function runAll(): Promise<void> {
  const run = randomBytes(3).toString("hex");
  const prefixes = ["gw", "floor", "layer", "gwlat", "flat", "layerlat", "trace"].map((p) => `bench-${p}-${run}`);
  const admin = new Redis(REDIS);
  const print = (k: string, v: number, digits = 0) => console.log(`${k}=${v.toFixed(digits)}`);
  try {
    console.log(`n=${N}`);
    console.log(`concurrency=${CONCURRENCY}`);
    console.log(`redis=${PRIVATE ? "private" : "shared"}`);
    print("load_average_1m_at_start", loadavg()[0]!, 2);
    if (ONLY_TRACE) {
      await traceOverhead({ admin, prefix: prefixes[6]!, runs: TRACE_RUNS, print, run: (p, traced) => measure(admin, () => gatewayThroughput(p, traced)) });
      print("load_average_1m", loadavg()[0]!, 2);
      return;
    }
    const floor = await measure(admin, () => bullmqFloor(prefixes[1]!));
    const parley = await measure(admin, () => gatewayThroughput(prefixes[0]!));
    const layer = await measure(admin, () => parleyThroughput(prefixes[2]!));
    print("parley_msgs_per_s", parley.rate);
    print("bullmq_floor_msgs_per_s", floor.rate);
    print("ratio", parley.rate / floor.rate, 2);
    print("delivery_layer_msgs_per_s", layer.rate);
    print("delivery_layer_ratio", layer.rate / floor.rate, 2);
    for (const [name, c] of [["parley", parley], ["delivery_layer", layer], ["bullmq_floor", floor]] as const) {
      print(`${name}_node_cpu_us_per_msg`, c.nodeUs, 1);
      print(`${name}_redis_cpu_us_per_msg`, c.redisUs, 1);
    }
    const l = await latency(prefixes[3]!, gatewayLatencyRig);
    console.log(`offered_rate_msgs_per_s=${RATE}`);
    console.log(`latency_samples=${l.count}`);
    print("p50_ms", l.p50, 2);
    print("p99_ms", l.p99, 2);
    const f = await latency(prefixes[4]!, floorRig);
    print("bullmq_floor_p50_ms", f.p50, 2);
    print("bullmq_floor_p99_ms", f.p99, 2);
    const d = await latency(prefixes[5]!, parleyRig);
    print("delivery_layer_p50_ms", d.p50, 2);
    print("delivery_layer_p99_ms", d.p99, 2);
    await traceOverhead({ admin, prefix: prefixes[6]!, runs: TRACE_RUNS, print, run: (p, traced) => measure(admin, () => gatewayThroughput(p, traced)) });
    print("load_average_1m", loadavg()[0]!, 2);
  } finally {
    for (const p of prefixes) await deleteKeysUnder(admin, p);
    admin.disconnect();
  }
}

await main();
