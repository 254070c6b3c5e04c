/**
 * `npm run bench:scale` — the whole core split over processes (issue 14): this process is a
 * `--role ingress` Parley accepting canonical messages (validate, route, policy, enqueue), and 1, 2
 * and 4 forked `--role workers` processes deliver them to a test-double network
 * (bench/scale-worker.ts); on one private Redis and on a private local Redis Cluster (3 masters +
 * 3 replicas, test/support/redis-cluster.ts), both with AOF at the same `appendfsync`.
 * One line per run (backend, workers), `repeats` runs per process count, interleaved:
 *   msgs_per_s                 N messages (1,000 conversations), `lanes` accept calls in flight
 *   redis_cpu_us_per_msg       Redis CPU per message in that run (a cluster: all six nodes, so
 *                              replication is counted)
 *   redis_cmds_per_msg         commands Redis ran per message (INFO commandstats, on a cluster the
 *                              masters; commands inside Lua count): the coordination cost, which
 *                              would grow if processes contended (failed fetches, re-parks…)
 *   ingress_cpu_us_per_msg     this process's CPU per message
 *   worker_cpu_us_per_msg      the worker processes' CPU per message in that throughput run,
 *                              summed over them
 *   worker_max_cpu_us_per_own_msg  the worst single worker's CPU per message it delivered
 *   worker_idle_cpu_ms_per_s   the worker processes' CPU while idle (summed; 2 s before the run:
 *                              BullMQ's stalled checks and blocking waits, timers, GC after the
 *                              warm-up), and
 *   worker_net_cpu_us_per_msg  worker CPU per message in the throughput run, idle share taken out
 *   p50_ms, p99_ms             accept → adapter latency at a fixed offered load (open loop, `rate`
 *                              msg/s for `seconds`, the same for every process count; a retried
 *                              message counts from its first offer), and
 *   worker_cpu_us_per_msg_at_rate  the workers' CPU per message during it
 *   per_process_cpu_us_per_msg THE per-process figure: the worker processes' CPU (idle included,
 *                              summed) per message delivered, at a fixed offered load *per process*
 *                              (`rate_per_worker` msg/s × processes, for `seconds`), with
 *                              per_process_p50_ms the latency then, and what the workers did per
 *                              message then (summed over them, scale-worker.ts counts them):
 *                              fetches_per_msg (BullMQ moveToActive calls), empty_fetches_per_msg
 *                              (of those, the ones that found no job), waits_per_msg (blocking
 *                              waits, BZPOPMIN) and wakeups_per_msg (voluntary context switches:
 *                              times an event loop went to sleep and was woken)
 *   try_later                  accepts answered "try later" (PARLEY_UNAVAILABLE) and retried
 * Then per process count the median of each figure, and a `verdict` line on
 * per_process_cpu_us_per_msg: its growth from 1 process to 2 and 4, against the run-to-run noise
 * measured in the same invocation (runs where the machine did not keep up, p50 > 20 ms, are left
 * out; with too few left the verdict says so).
 *
 * Why that figure. A Node worker's CPU per message depends mostly on how many messages it handles
 * per wake-up: at 1,000 msg/s one process spends ~400 µs per message, at 25–40 msg/s ~1,600 µs (each
 * Redis round trip its own write and wake-up). In the throughput run the machine's 2 cores are
 * shared by all the workers, so 4 processes each see a quarter of the load of 1 process, batch less,
 * and their CPU per message rises (worker_cpu_us_per_msg) although Redis runs the same commands per
 * message; on a fixed total load (worker_cpu_us_per_msg_at_rate) each process's fixed cost (idle,
 * timers, GC) is also spread over fewer messages. Neither is a cost of *having* more processes.
 * Giving every process the same load, as separate cores or hosts would, isolates that cost: if
 * processes contended (for a conversation's head, wake-ups, locks), per-process CPU per message
 * would grow with their number at the same per-process load.
 *
 * The worker processes of a network share its queues (src/delivery/ownership.ts): queue i of the
 * kinds × partitions runs in one live process at a time. The offered load is the same per
 * process, but it lands where the queues are: with 1 partition all of a network's messages go
 * through one process and the others idle, so there the figure is the deployment's cost per
 * message with N processes (N × the per-process load over all of them), not N equal shares; with
 * 8 partitions and 4 processes each serves 2 of the message partitions. Before the sharing every
 * process ran every queue, and this figure grew with the number of processes on one Redis (+18 to
 * +33 %, docs/operations.md): each fetch leaves BullMQ's marker behind, which woke another
 * process's worker for an empty fetch, and every process ran every queue's stalled check.
 *
 * Arguments or environment: n=4000 (BENCH_N), rate=150 (BENCH_RATE), rate_per_worker=40
 * (BENCH_RATE_PER_WORKER), seconds=8 (BENCH_SECONDS), workers=1,2,4 (BENCH_WORKERS),
 * backends=redis,cluster (BENCH_BACKENDS), partitions=default (BENCH_PARTITIONS), repeats=3 (BENCH_REPEATS), concurrency=16 per worker
 * process (BENCH_CONCURRENCY), lanes=32 (BENCH_LANES), appendfsync=everysec (BENCH_APPENDFSYNC).
 * BENCH_CMDSTATS=1 prints Redis' commands per message by name; BENCH_WORKER_PROF=<dir> writes each
 * worker's V8 CPU profile there (`--cpu-prof`). `load_average_1m` is printed with every run: on 2
 * shared cores absolute figures are the machine's.
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
const RATE_PER_WORKER = Number(arg("rate_per_worker", "BENCH_RATE_PER_WORKER", "40"));
const SECONDS = Number(arg("seconds", "BENCH_SECONDS", "8"));
const WORKERS = arg("workers", "BENCH_WORKERS", "1,2,4").split(",").map(Number);
const BACKENDS = arg("backends", "BENCH_BACKENDS", "redis,cluster").split(",");
const CONCURRENCY = Number(arg("concurrency", "BENCH_CONCURRENCY", "16"));
/** Delivery queue partitions per kind and network; unset: the product default (1 on one Redis, 8 on a cluster). */
const PARTITIONS = arg("partitions", "BENCH_PARTITIONS", "") === "" ? undefined : Number(arg("partitions", "BENCH_PARTITIONS", ""));
const LANES = Number(arg("lanes", "BENCH_LANES", "32"));
const APPENDFSYNC = arg("appendfsync", "BENCH_APPENDFSYNC", "everysec") === "always" ? "always" : "everysec";
const REPEATS = Number(arg("repeats", "BENCH_REPEATS", "3"));
const SATURATED_P50_MS = 20;
const CONVERSATIONS = 1000;
const WARMUP = 500;
const BODY = randomBytes(90).toString("base64");
const ENTRY = fileURLToPath(new URL("./scale-worker.ts", import.meta.url));
const now = () => performance.timeOrigin + performance.now();

type Fields = Record<string, number>;

interface Backend { readonly name: string; readonly redisUrl: string; readonly cluster?: readonly string[]; cpuUs(): Promise<number>; cmdStats(): Promise<Map<string, number>>; destroy(): Promise<void> }

/** Commands Redis ran so far, by name (INFO commandstats `calls`). */
async function cmdStatsOf(r: Redis): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const m of (await r.info("commandstats")).matchAll(/cmdstat_([^:]+):calls=(\d+)/g)) out.set(m[1]!, Number(m[2]));
  return out;
}

async function startBackend(name: string): Promise<Backend> {
  if (name === "cluster") {
    const c = await RedisCluster.start({ appendfsync: APPENDFSYNC });
    const masters = (await c.masters()).map((n) => new Redis(n.port, "127.0.0.1"));
    const cmdStats = async () => {
      const sum = new Map<string, number>();
      for (const r of masters) for (const [k, v] of await cmdStatsOf(r)) sum.set(k, (sum.get(k) ?? 0) + v);
      return sum;
    };
    return { name, redisUrl: "redis://127.0.0.1:6379", cluster: c.seeds, cpuUs: () => c.cpuMicros(), cmdStats, destroy: async () => { for (const r of masters) r.disconnect(); await c.destroy(); } };
  }
  const s = await RedisServer.start({ appendonly: true, appendfsync: APPENDFSYNC });
  const admin = new Redis(s.url);
  return { name, redisUrl: s.url, cpuUs: () => cpuMicrosOf(admin), cmdStats: () => cmdStatsOf(admin), destroy: async () => { admin.disconnect(); await s.destroy(); } };
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
      execArgv: ["--import", "tsx", ...(process.env.BENCH_WORKER_PROF ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_WORKER_PROF}`] : [])], env: { ...process.env, PARLEY_BENCH_WORKER: JSON.stringify(cfg) }, stdio: ["ignore", "inherit", "inherit", "ipc"],
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
async function idleCpu(w: Workers, b: Backend): Promise<number> {
  const [s0, k0, t0] = [await w.snapshot(), await b.cmdStats(), performance.now()];
  await new Promise((r) => setTimeout(r, IDLE_MS)); // the measuring window itself, not a synchronisation
  const [s1, k1, t1] = [await w.snapshot(), await b.cmdStats(), performance.now()];
  if (process.env.BENCH_CMDSTATS) console.log(`  idle commands per s: ${[...k1].map(([k, v]) => [k, (v - (k0.get(k) ?? 0)) / ((t1 - t0) / 1000)] as const).filter(([, v]) => v >= 0.5).map(([k, v]) => `${k}=${v.toFixed(1)}`).join(" ")}`);
  return s1.reduce((a, s, i) => a + s.cpuUs - s0[i]!.cpuUs, 0) / ((t1 - t0) / 1000);
}

async function throughput(gw: GatewayRig, w: Workers, b: Backend): Promise<Record<string, number>> {
  const idleUsPerS = await idleCpu(w, b);
  const [s0, r0, k0, c0, t0] = [await w.snapshot(), await b.cpuUs(), await b.cmdStats(), process.cpuUsage(), performance.now()];
  const target = w.total + N;
  let left = N;
  const lane = async () => { while (left > 0) { left--; await accept(gw); } };
  await Promise.all(Array.from({ length: LANES }, lane));
  await w.waitTotal(target);
  const seconds = (performance.now() - t0) / 1000;
  const [s1, r1, k1, c1] = [await w.snapshot(), await b.cpuUs(), await b.cmdStats(), process.cpuUsage(c0)];
  let cmds = 0;
  const perCmd: string[] = [];
  for (const [k, v] of k1) {
    const d = v - (k0.get(k) ?? 0);
    cmds += d;
    if (d / N >= 0.05) perCmd.push(`${k}=${(d / N).toFixed(2)}`);
  }
  if (process.env.BENCH_CMDSTATS) console.log(`  commands per message: ${perCmd.join(" ")}`);
  const perWorker = s1.map((s, i) => ({ cpu: s.cpuUs - s0[i]!.cpuUs, n: s.delivered - s0[i]!.delivered }));
  const workerCpu = perWorker.reduce((a, p) => a + p.cpu, 0);
  return {
    msgs_per_s: N / seconds,
    redis_cpu_us_per_msg: (r1 - r0) / N,
    redis_cmds_per_msg: cmds / N,
    ingress_cpu_us_per_msg: (c1.user + c1.system) / N,
    worker_cpu_us_per_msg: workerCpu / N,
    worker_max_cpu_us_per_own_msg: Math.max(...perWorker.map((p) => p.cpu / Math.max(1, p.n))),
    worker_idle_cpu_ms_per_s: idleUsPerS / 1000,
    worker_net_cpu_us_per_msg: (workerCpu - idleUsPerS * seconds) / N,
  };
}

/** Per-process counters the workers report (scale-worker.ts), summed over them. */
type Counted = "cpuUs" | "fetches" | "emptyFetches" | "waits" | "wakeups";

/** Offer `rate` msg/s for `seconds` (open loop) and wait until all are delivered. */
async function offer(gw: GatewayRig, w: Workers, b: Backend, rate: number, seconds: number): Promise<{ total: number; cpuUs: number; latencies: number[]; per: (k: Counted) => number }> {
  const [s0, k0] = [await w.snapshot(), await b.cmdStats()]; // the snapshot also drops earlier latencies
  const total = Math.round(rate * seconds);
  const target = w.total + total;
  const start = performance.now();
  let offered = 0;
  const inflight = new Set<Promise<void>>();
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate));
      for (; offered < due; offered++) { const p = accept(gw).finally(() => inflight.delete(p)); inflight.add(p); }
      if (offered >= total) { clearInterval(tick); resolve(); }
    }, 1);
  });
  await Promise.all(inflight);
  await w.waitTotal(target);
  const [s1, k1] = [await w.snapshot(), await b.cmdStats()];
  if (process.env.BENCH_CMDSTATS) console.log(`  at ${rate} msg/s, commands per message: ${[...k1].map(([k, v]) => [k, (v - (k0.get(k) ?? 0)) / total] as const).filter(([, v]) => v >= 0.05).map(([k, v]) => `${k}=${v.toFixed(2)}`).join(" ")}`);
  const sum = (k: keyof WorkerSnapshot & Counted) => s1.reduce((a, s, i) => a + s[k] - s0[i]![k], 0);
  return { total, cpuUs: sum("cpuUs"), latencies: s1.flatMap((s) => s.latencies), per: (k) => sum(k) / total };
}

/** Latency at the fixed offered load `rate` (the same for every process count). */
async function latency(gw: GatewayRig, w: Workers, b: Backend): Promise<Fields> {
  const o = await offer(gw, w, b, RATE, SECONDS);
  const lat = o.latencies.sort((x, y) => x - y);
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.ceil(lat.length * p) - 1)]!;
  return { offered_rate: RATE, p50_ms: q(0.5), p99_ms: q(0.99), worker_cpu_us_per_msg_at_rate: o.cpuUs / o.total };
}

/** CPU per message at a fixed offered load per worker process (`rate_per_worker` × processes). */
async function perProcess(gw: GatewayRig, w: Workers, b: Backend): Promise<Fields> {
  const o = await offer(gw, w, b, RATE_PER_WORKER * w.children.length, SECONDS);
  const lat = o.latencies.sort((x, y) => x - y);
  return {
    per_process_rate: RATE_PER_WORKER, per_process_cpu_us_per_msg: o.cpuUs / o.total, per_process_p50_ms: lat[Math.ceil(lat.length / 2) - 1]!,
    fetches_per_msg: o.per("fetches"), empty_fetches_per_msg: o.per("emptyFetches"), waits_per_msg: o.per("waits"), wakeups_per_msg: o.per("wakeups"),
  };
}

async function run(b: Backend, workers: number): Promise<Fields> {
  const prefix = `bench-scale-${randomBytes(3).toString("hex")}`;
  const gw = await gatewayRig({ redisUrl: b.redisUrl, cluster: b.cluster, role: "ingress", partitions: PARTITIONS, prefix, concurrency: CONCURRENCY, onDeliver: () => {} });
  const w = await Workers.spawn(workers, { redisUrl: b.redisUrl, cluster: b.cluster, partitions: PARTITIONS, prefix, concurrency: CONCURRENCY });
  try {
    const warm = w.total + WARMUP;
    for (let i = 0; i < WARMUP; i++) await accept(gw);
    await w.waitTotal(warm);
    const t = await throughput(gw, w, b);
    const l = await latency(gw, w, b);
    const pp = await perProcess(gw, w, b);
    const fields = { ...t, ...l, ...pp, try_later: tryLater, load_average_1m: loadavg()[0]! };
    tryLater = 0;
    console.log(`backend=${b.name} workers=${workers} ${show(fields)}`);
    return fields;
  } finally {
    await w.stop();
    await gw.close();
  }
}

const show = (f: Fields) => Object.entries(f).map(([k, v]) => `${k}=${k.endsWith("_ms") || k.includes("cpu") || k.includes("cmds") || k.endsWith("per_msg") || k.startsWith("load") ? v.toFixed(1) : v.toFixed(0)}`).join(" ");
const median = (xs: readonly number[]) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2; };
const pct = (x: number) => `${x >= 0 ? "+" : ""}${(x * 100).toFixed(0)}%`;
/** The per-process figure the verdict is on (see the header). */
const FIGURE = "per_process_cpu_us_per_msg";

/**
 * Runs interleaved (1, 2, 4, 1, 2, 4, …) so a change in the machine's load hits every process
 * count alike; per process count the median of each figure; then the verdict on {@link FIGURE}:
 * its growth from the first process count to any other (medians), against the run-to-run noise
 * (the largest distance of one run from its process count's median).
 */
async function backendRuns(name: string): Promise<void> {
  const b = await startBackend(name);
  const runs = new Map<number, Fields[]>(WORKERS.map((n) => [n, []]));
  try {
    for (let r = 0; r < REPEATS; r++) for (const workers of WORKERS) runs.get(workers)!.push(await run(b, workers));
  } finally { await b.destroy(); }
  if (REPEATS < 2) return;
  const med = new Map<number, Fields>();
  for (const [workers, fs] of runs) {
    med.set(workers, Object.fromEntries(Object.keys(fs[0]!).map((k) => [k, median(fs.map((f) => f[k]!))])));
    console.log(`median backend=${name} workers=${workers} runs=${fs.length} ${show(med.get(workers)!)}`);
  }
  // The verdict uses only runs where the machine kept up with the per-process load (p50 within
  // SATURATED_P50_MS): in a saturated run jobs queue up and batch, and CPU per message falls.
  const ok = new Map([...runs].map(([n, fs]) => [n, fs.filter((f) => f.per_process_p50_ms! <= SATURATED_P50_MS).map((f) => f[FIGURE]!)]));
  const dropped = [...runs.values()].flat().length - [...ok.values()].flat().length;
  if ([...ok.values()].some((xs) => xs.length < 2)) {
    console.log(`verdict backend=${name} figure=${FIGURE} UNDECIDED: fewer than 2 runs per process count kept up with the load (p50 ≤ ${SATURATED_P50_MS} ms); the machine is too busy — run again when it is quieter`);
    return;
  }
  const m = new Map([...ok].map(([n, xs]) => [n, median(xs)]));
  let noise = 0;
  for (const [n, xs] of ok) for (const x of xs) noise = Math.max(noise, Math.abs(x / m.get(n)! - 1));
  const base = m.get(WORKERS[0]!)!;
  const growth = Math.max(...WORKERS.slice(1).map((n) => m.get(n)! / base - 1));
  const steps = WORKERS.map((n) => `${n}:${m.get(n)!.toFixed(0)}`).join(" ");
  console.log(`verdict backend=${name} figure=${FIGURE} median_us ${steps} growth=${pct(growth)} noise=±${(noise * 100).toFixed(0)}% ` +
    `(${[...ok.values()].flat().length} runs, ${dropped} saturated left out) ` +
    (growth <= noise ? "FLAT: per-process CPU per message does not grow with the number of processes, within run-to-run noise" : "GROWS: more than the run-to-run noise"));
}

console.log(`n=${N} lanes=${LANES} concurrency_per_worker=${CONCURRENCY} partitions=${PARTITIONS ?? "default"} appendfsync=${APPENDFSYNC} repeats=${REPEATS} load_average_1m_at_start=${loadavg()[0]!.toFixed(2)}`);
for (const name of BACKENDS) await backendRuns(name);
