/**
 * `npm run bench:scale` — the whole core split over processes (issue 14): this process is a
 * `--role ingress` Parley accepting canonical messages (validate, route, policy, enqueue), and 1, 2
 * and 4 forked `--role workers` processes deliver them to a test-double network
 * (bench/scale-worker.ts); on one private Redis and on a private local Redis Cluster (3 masters +
 * 3 replicas, test/support/redis-cluster.ts), both with AOF at the same `appendfsync`.
 * One line per (backend, workers):
 *   msgs_per_s                 N messages (1,000 conversations), `lanes` accept calls in flight
 *   redis_cpu_us_per_msg       Redis CPU per message in that run (a cluster: all six nodes, so
 *                              replication is counted)
 *   ingress_cpu_us_per_msg     this process's CPU per message
 *   worker_cpu_us_per_msg      the worker processes' CPU per message, summed over them: on a fixed
 *                              machine it must not grow with the number of processes
 *   worker_max_cpu_us_per_own_msg  the worst single worker's CPU per message it delivered
 *   worker_idle_cpu_ms_per_s   the worker processes' CPU while idle (summed; measured for 2 s
 *                              before the run: BullMQ's blocking waits, timers), and
 *   worker_net_cpu_us_per_msg  worker CPU per message with that idle share taken out: the cost a
 *                              message adds, which must stay flat as processes are added
 *   p50_ms, p99_ms             accept → adapter latency at a fixed offered load (open loop, `rate`
 *                              msg/s for `seconds`, after a warm-up; a retried message counts from
 *                              its first offer)
 *   try_later                  accepts answered "try later" (PARLEY_UNAVAILABLE) and retried
 * Arguments or environment: n=4000 (BENCH_N), rate=150 (BENCH_RATE), seconds=8 (BENCH_SECONDS),
 * workers=1,2,4 (BENCH_WORKERS), backends=redis,cluster (BENCH_BACKENDS), concurrency=16 per worker
 * process (BENCH_CONCURRENCY), lanes=32 (BENCH_LANES), appendfsync=everysec (BENCH_APPENDFSYNC).
 * On 2 shared cores absolute scaling is capped by the machine; `load_average_1m` is printed.
 */
import { fork, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { isParleyError } from "../src/errors/index.js";
import { cpuMicrosOf, RedisCluster } from "../test/support/redis-cluster.js";
import { RedisServer } from "../test/support/redis-server.js";
import { benchMessage, gatewayRig, type GatewayRig } from "./gateway-rig.js";
import type { ScaleWorkerConfig, WorkerSnapshot } from "./scale-worker.js";

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.split("=") as [string, string]));
const arg = (k: string, env: string, d: string) => args[k] ?? process.env[env] ?? d;
const N = Number(arg("n", "BENCH_N", "4000"));
const RATE = Number(arg("rate", "BENCH_RATE", "150"));
const SECONDS = Number(arg("seconds", "BENCH_SECONDS", "8"));
const WORKERS = arg("workers", "BENCH_WORKERS", "1,2,4").split(",").map(Number);
const BACKENDS = arg("backends", "BENCH_BACKENDS", "redis,cluster").split(",");
const CONCURRENCY = Number(arg("concurrency", "BENCH_CONCURRENCY", "16"));
const LANES = Number(arg("lanes", "BENCH_LANES", "32"));
const APPENDFSYNC = arg("appendfsync", "BENCH_APPENDFSYNC", "everysec") === "always" ? "always" : "everysec";
const CONVERSATIONS = 1000;
const WARMUP = 500;
const BODY = randomBytes(90).toString("base64");
const ENTRY = fileURLToPath(new URL("./scale-worker.ts", import.meta.url));
const now = () => performance.timeOrigin + performance.now();

interface Backend { readonly name: string; readonly redisUrl: string; readonly cluster?: readonly string[]; cpuUs(): Promise<number>; destroy(): Promise<void> }

async function startBackend(name: string): Promise<Backend> {
  if (name === "cluster") {
    const c = await RedisCluster.start({ appendfsync: APPENDFSYNC });
    return { name, redisUrl: "redis://127.0.0.1:6379", cluster: c.seeds, cpuUs: () => c.cpuMicros(), destroy: () => c.destroy() };
  }
  const s = await RedisServer.start({ appendonly: true, appendfsync: APPENDFSYNC });
  const admin = new Redis(s.url);
  return { name, redisUrl: s.url, cpuUs: () => cpuMicrosOf(admin), destroy: async () => { admin.disconnect(); await s.destroy(); } };
}

/** The worker processes of one run, with their reported delivery counts. */
class Workers {
  private readonly delivered = new Map<ChildProcess, number>();
  private constructor(readonly children: ChildProcess[]) {
    for (const c of children) {
      this.delivered.set(c, 0);
      c.on("message", (m: { type: string; delivered?: number }) => { if (m.type === "progress") this.delivered.set(c, m.delivered!); });
    }
  }

  static async spawn(count: number, cfg: ScaleWorkerConfig): Promise<Workers> {
    const children = Array.from({ length: count }, () => fork(ENTRY, [], {
      execArgv: ["--import", "tsx"], env: { ...process.env, PARLEY_BENCH_WORKER: JSON.stringify(cfg) }, stdio: ["ignore", "inherit", "inherit", "ipc"],
    }));
    await Promise.all(children.map((c) => new Promise<void>((resolve, reject) => {
      c.once("message", () => resolve());
      c.once("exit", (code) => reject(new Error(`bench worker exited early (${code})`)));
    })));
    return new Workers(children);
  }

  get total(): number { let n = 0; for (const v of this.delivered.values()) n += v; return n; }

  async waitTotal(target: number, timeoutMs = 300_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (this.total < target) {
      if (Date.now() > until) throw new Error(`only ${this.total} of ${target} delivered within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  snapshot(): Promise<WorkerSnapshot[]> {
    return Promise.all(this.children.map((c) => new Promise<WorkerSnapshot>((resolve) => {
      const on = (m: { type: string }) => { if (m.type === "snapshot") { c.off("message", on); resolve(m as WorkerSnapshot); } };
      c.on("message", on);
      c.send({ type: "snapshot" });
    })));
  }

  async stop(): Promise<void> {
    await Promise.all(this.children.map((c) => new Promise<void>((resolve) => {
      if (c.exitCode !== null) { resolve(); return; }
      c.once("exit", () => resolve());
      c.kill("SIGTERM");
    })));
  }
}

let sent = 0;
let tryLater = 0;
/** One message offered as a source does: "try later" (PARLEY_UNAVAILABLE) is retried after 100 ms. */
async function accept(gw: GatewayRig): Promise<void> {
  const m = benchMessage(sent++, now(), BODY, CONVERSATIONS);
  for (;;) {
    try { await gw.accept([m]); return; } catch (e) {
      if (!isParleyError(e, "PARLEY_UNAVAILABLE")) throw e;
      tryLater++;
      await new Promise((r) => setTimeout(r, 100)); // the source's retry delay
    }
  }
}

const IDLE_MS = 2000;

/** The worker processes' CPU while nothing is offered (µs per second, summed over them). */
async function idleCpu(w: Workers): Promise<number> {
  const [s0, t0] = [await w.snapshot(), performance.now()];
  await new Promise((r) => setTimeout(r, IDLE_MS)); // the measuring window itself, not a synchronisation
  const [s1, t1] = [await w.snapshot(), performance.now()];
  return s1.reduce((a, s, i) => a + s.cpuUs - s0[i]!.cpuUs, 0) / ((t1 - t0) / 1000);
}

async function throughput(gw: GatewayRig, w: Workers, b: Backend): Promise<Record<string, number>> {
  const idleUsPerS = await idleCpu(w);
  const [s0, r0, c0, t0] = [await w.snapshot(), await b.cpuUs(), process.cpuUsage(), performance.now()];
  const target = w.total + N;
  let left = N;
  const lane = async () => { while (left > 0) { left--; await accept(gw); } };
  await Promise.all(Array.from({ length: LANES }, lane));
  await w.waitTotal(target);
  const seconds = (performance.now() - t0) / 1000;
  const [s1, r1, c1] = [await w.snapshot(), await b.cpuUs(), process.cpuUsage(c0)];
  const perWorker = s1.map((s, i) => ({ cpu: s.cpuUs - s0[i]!.cpuUs, n: s.delivered - s0[i]!.delivered }));
  const workerCpu = perWorker.reduce((a, p) => a + p.cpu, 0);
  return {
    msgs_per_s: N / seconds,
    redis_cpu_us_per_msg: (r1 - r0) / N,
    ingress_cpu_us_per_msg: (c1.user + c1.system) / N,
    worker_cpu_us_per_msg: workerCpu / N,
    worker_max_cpu_us_per_own_msg: Math.max(...perWorker.map((p) => p.cpu / Math.max(1, p.n))),
    worker_idle_cpu_ms_per_s: idleUsPerS / 1000,
    worker_net_cpu_us_per_msg: (workerCpu - idleUsPerS * seconds) / N,
  };
}

async function latency(gw: GatewayRig, w: Workers): Promise<Record<string, number>> {
  await w.snapshot(); // drop earlier latencies
  const total = RATE * SECONDS;
  const target = w.total + total;
  const start = performance.now();
  let offered = 0;
  const inflight = new Set<Promise<void>>();
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * RATE));
      for (; offered < due; offered++) { const p = accept(gw).finally(() => inflight.delete(p)); inflight.add(p); }
      if (offered >= total) { clearInterval(tick); resolve(); }
    }, 1);
  });
  await Promise.all(inflight);
  await w.waitTotal(target);
  const lat = (await w.snapshot()).flatMap((s) => s.latencies).sort((a, b) => a - b);
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.ceil(lat.length * p) - 1)]!;
  return { offered_rate: RATE, p50_ms: q(0.5), p99_ms: q(0.99) };
}

async function run(b: Backend, workers: number): Promise<void> {
  const prefix = `bench-scale-${randomBytes(3).toString("hex")}`;
  const gw = await gatewayRig({ redisUrl: b.redisUrl, cluster: b.cluster, role: "ingress", prefix, concurrency: CONCURRENCY, onDeliver: () => {} });
  const w = await Workers.spawn(workers, { redisUrl: b.redisUrl, cluster: b.cluster, prefix, concurrency: CONCURRENCY });
  try {
    const warm = w.total + WARMUP;
    for (let i = 0; i < WARMUP; i++) await accept(gw);
    await w.waitTotal(warm);
    const t = await throughput(gw, w, b);
    const l = await latency(gw, w);
    const fields = { ...t, ...l, try_later: tryLater };
    tryLater = 0;
    const fmt = (k: string, v: number) => `${k}=${k.endsWith("_ms") || k.includes("cpu") ? v.toFixed(1) : v.toFixed(0)}`;
    console.log(`backend=${b.name} workers=${workers} ${Object.entries(fields).map(([k, v]) => fmt(k, v)).join(" ")} load_average_1m=${loadavg()[0]!.toFixed(2)}`);
  } finally {
    await w.stop();
    await gw.close();
  }
}

console.log(`n=${N} lanes=${LANES} concurrency_per_worker=${CONCURRENCY} appendfsync=${APPENDFSYNC} load_average_1m_at_start=${loadavg()[0]!.toFixed(2)}`);
for (const name of BACKENDS) {
  const b = await startBackend(name);
  try {
    for (const workers of WORKERS) await run(b, workers);
  } finally { await b.destroy(); }
}
