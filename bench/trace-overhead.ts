/** The trace on/off comparison of `bench:delivery` (issue 17): see delivery.ts for the figures. */
import type { Redis } from "ioredis";
import { deleteKeysUnder } from "../src/store/keys.js";

export interface Cost { readonly rate: number; readonly nodeUs: number; readonly redisUs: number }

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * Whole-core throughput with the trace on and off: one unmeasured warm-up run of each (JIT, Lua
 * script loading), then `o.runs` pairs run back to back in alternating order, so load drifts
 * and warm-up hit both alike. The ratio printed is the median of the per-pair ratios (each pair
 * ran under the same load); the medians of each side are printed too.
 */
export async function traceOverhead(o: { admin: Redis; prefix: string; runs: number; print: (k: string, v: number, d?: number) => void; run: (prefix: string, traced: boolean) => Promise<Cost> }): Promise<void> {
  const { admin, prefix, print } = o;
  for (const traced of [false, true]) {
    const p = `${prefix}-warm-${traced ? "on" : "off"}`;
    await o.run(p, traced);
    await deleteKeysUnder(admin, p);
  }
  const on: number[] = [];
  const off: number[] = [];
  const cpu = { on: [] as number[], off: [] as number[], redisOn: [] as number[], redisOff: [] as number[] };
  for (let r = 0; r < o.runs; r++) {
    for (const traced of r % 2 === 0 ? [false, true] : [true, false]) {
      const p = `${prefix}-${r}-${traced ? "on" : "off"}`;
      const c = await o.run(p, traced);
      (traced ? on : off).push(c.rate);
      (traced ? cpu.on : cpu.off).push(c.nodeUs);
      (traced ? cpu.redisOn : cpu.redisOff).push(c.redisUs);
      await deleteKeysUnder(admin, p);
    }
  }
  print("trace_on_node_cpu_us_per_msg", median(cpu.on), 1);
  print("trace_off_node_cpu_us_per_msg", median(cpu.off), 1);
  print("trace_on_redis_cpu_us_per_msg", median(cpu.redisOn), 1);
  print("trace_off_redis_cpu_us_per_msg", median(cpu.redisOff), 1);
  console.log(`trace_runs=${o.runs}`);
  console.log(`trace_on_runs=${on.map((x) => x.toFixed(0)).join(",")}`);
  console.log(`trace_off_runs=${off.map((x) => x.toFixed(0)).join(",")}`);
  print("trace_on_msgs_per_s", median(on));
  print("trace_off_msgs_per_s", median(off));
  print("trace_ratio_of_medians", median(on) / median(off), 2);
  print("trace_ratio", median(on.map((x, i) => x / off[i]!)), 2);
}

