/**
 * `npm run bench:e2e` — one conversation end to end through real peers (issue 10): a real Matrix
 * client (bob, on Synapse) and a real XMPP client (alice, on Prosody), Parley as a compiled
 * `parley start` process between them (the chaos test's deployment, test/chaos/rig.ts, with no
 * fault injected). Each direction offers `n` messages as fast as the source takes them (`window`
 * Matrix sends in flight; XMPP stanzas written back to back) and prints, measured by the receiving
 * client:
 *   <dir>_msgs_per_s   delivered / (first send → last arrival)
 *   <dir>_source_msgs_per_s  n / (first send → the source network took the last one): the
 *                      ceiling the figure above cannot pass (Synapse's own rate for m2x)
 *   <dir>_p50_ms, <dir>_p99_ms, <dir>_max_ms   send → arrival
 *   <dir>_out_of_order arrivals earlier than a message sent before them (m2x: Synapse orders
 *                      concurrent sends itself, so only x2m's figure is Parley's)
 *   <dir>_delivered    of `n` (all must arrive)
 * Directions: m2x (Matrix → XMPP), x2m (XMPP → Matrix). Arguments or environment: n=2000
 * (BENCH_N), window=64 (BENCH_WINDOW), only=m2x|x2m (BENCH_ONLY).
 */
import { loadavg } from "node:os";
import { startChaosRig, type ChaosRig } from "../test/chaos/rig.js";
import { timings, type Direction } from "../test/chaos/ledger.js";
import { until } from "../test/support/until.js";

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.split("=") as [string, string]));
const N = Number(args.n ?? process.env.BENCH_N ?? 2000);
const WINDOW = Number(args.window ?? process.env.BENCH_WINDOW ?? 64);
const ONLY = (args.only ?? process.env.BENCH_ONLY) as Direction | undefined;

const pct = (xs: readonly number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))] ?? NaN;

/** Returns how long the source network took to accept all `n` sends (ms). */
async function run(rig: ChaosRig, d: Direction, n: number, prefix: string): Promise<number> {
  const t0 = Date.now();
  let next = 0;
  const lane = async () => {
    while (next < n) {
      const i = next++;
      await rig.send(d, `${prefix}${i}`);
    }
  };
  // XMPP: the client writes stanzas back to back (its socket is the only limit); Matrix: `window` PUTs in flight.
  await Promise.all(Array.from({ length: d === "m2x" ? WINDOW : 1 }, lane));
  const sourceMs = Date.now() - t0;
  await until(`${n} ${d} messages delivered`, () => (timings(rig.ledger, prefix, d).delivered >= n ? true : undefined), 120_000, 100)
    .catch(() => undefined); // the figures say how many arrived
  return sourceMs;
}

function print(d: Direction, prefix: string, n: number, rig: ChaosRig, sourceMs: number): void {
  const t = timings(rig.ledger, prefix, d);
  const f = rig.ledger.figures(prefix, d);
  console.log(`${d}_msgs_per_s=${(t.delivered / (t.spanMs / 1000)).toFixed(1)}`);
  // The source's own rate (Synapse answering the PUTs; the XMPP client writing): the ceiling of the figure above.
  console.log(`${d}_source_msgs_per_s=${(n / (sourceMs / 1000)).toFixed(1)}`);
  console.log(`${d}_p50_ms=${pct(t.latencies, 50)}`);
  console.log(`${d}_p99_ms=${pct(t.latencies, 99)}`);
  console.log(`${d}_max_ms=${t.latencies.at(-1) ?? NaN}`);
  console.log(`${d}_out_of_order=${t.outOfOrder}`);
  console.log(`${d}_delivered=${t.delivered}/${n} reported=${f.reported} duplicates=${f.visibleDuplicates}`);
}

const rig = await startChaosRig();
try {
  console.log(`n=${N} window=${WINDOW} loadavg_1m=${loadavg()[0]!.toFixed(2)}`);
  for (const d of ["m2x", "x2m"] as const) {
    if (ONLY && ONLY !== d) continue;
    await run(rig, d, Math.min(100, N), `c:warm:${d}:`); // first-message costs (puppets, rooms, JIT) out of the figures
    const prefix = `c:bench:${d}:`;
    const sourceMs = await run(rig, d, N, prefix);
    print(d, prefix, N, rig, sourceMs);
  }
} finally {
  await rig.stop();
}
process.exit(0);
