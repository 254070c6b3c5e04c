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
 *   m2x_out_of_room_order (and _drain_, _drain_as_) arrivals at alice earlier than a message
 *                      before them in the room's own order (GET /messages): the order Parley keeps
 *   <dir>_out_of_order arrivals earlier than a message sent before them (m2x: Synapse orders
 *                      concurrent sends itself, so only x2m's figure is Parley's)
 *   <dir>_delivered    of `n` (all must arrive)
 *   m2x_drain_msgs_per_s  Parley's own delivery rate on the conversation, past the source's:
 *                      the message-xmpp queue is paused (the kill switch) while bob sends `drain`
 *                      messages and Parley stores them, then resumed; (arrivals − 1) / (first
 *                      arrival → last arrival) at alice's client.
 *   m2x_drain_as_msgs_per_s  the same from Synapse's backlog: the
 *                      application-service port is held (Synapse keeps the events and pushes
 *                      them after, as fast as it processes them) while bob sends `drain` (at most `hold` ms: Synapse
 *                      gives up on a transaction after 60 s), then released; (arrivals − 1) /
 *                      (first arrival → last arrival) at alice's client. m2x_drain_as_backlog: how
 *                      many were held (drain_as=0 skips it).
 * Then `convs` conversations at once (100: bob on Matrix and alice_0 … alice_99 on XMPP, one
 * DM room each), `per` messages per conversation per direction, sent round-robin: prints
 * conv<k>_<dir>_msgs_per_s, _source_msgs_per_s, _p50_ms, _p99_ms, _max_ms, _out_of_order (within a
 * conversation), _delivered.
 * Directions: m2x (Matrix → XMPP), x2m (XMPP → Matrix). Arguments or environment: n=2000
 * (BENCH_N), window=64 (BENCH_WINDOW), only=m2x|x2m (BENCH_ONLY), hold=45000 (BENCH_HOLD_MS),
 * drain=N (BENCH_DRAIN; how many to hold, 0 skips the drain), convs=100 (BENCH_CONVS; 0 skips), per=10 (BENCH_PER), one=0 to skip
 * the one-conversation part.
 */
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { matrixAdapter } from "../adapters/matrix/index.js";
import { endpoint } from "../src/model/address.js";
import { demoMappings } from "../scripts/demo/deployment.js";
import { connectXmppUser, xml, type Stanza, type XmppTestUser } from "../test/harness/prosody/client.js";
import { startChaosRig, type ChaosRig } from "../test/chaos/rig.js";
import { outOfSourceOrder, timings, type Direction } from "../test/chaos/ledger.js";
import { until } from "../test/support/until.js";

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.split("=") as [string, string]));
const N = Number(args.n ?? process.env.BENCH_N ?? 2000);
const WINDOW = Number(args.window ?? process.env.BENCH_WINDOW ?? 64);
const ONLY = (args.only ?? process.env.BENCH_ONLY) as Direction | undefined;
const HOLD_MS = Number(args.hold ?? process.env.BENCH_HOLD_MS ?? 45_000);
const DRAIN_N = Number(args.drain ?? process.env.BENCH_DRAIN ?? N);
const DRAIN_AS = (args.drain_as ?? "1") !== "0";
const CONVS = Number(args.convs ?? process.env.BENCH_CONVS ?? 100);
const PER = Number(args.per ?? process.env.BENCH_PER ?? 10);
const ONE = (args.one ?? "1") !== "0";

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

/** CPU time (user + system, ms) a process has used so far: /proc/<pid>/stat fields 14 and 15, in clock ticks (100 Hz). */
function cpuMs(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(f[11]) + Number(f[12])) * 10;
}

/**
 * Matrix → XMPP: arrivals at alice out of the room's own order (Synapse orders bob's concurrent
 * sends itself, so `_out_of_order`, by send time, is mostly Synapse's; this one is Parley's).
 */
async function printRoomOrder(rig: ChaosRig, prefix: string, label: string): Promise<void> {
  console.log(`${label}_out_of_room_order=${outOfSourceOrder(rig.ledger, prefix, await rig.roomOrder())}`);
}

/** The arrivals under `prefix` at alice's client: (count − 1) / (first → last arrival). */
function drainFigures(rig: ChaosRig, prefix: string, label: string, held: number, heldMs: number): void {
  const arrivals = rig.ledger.entriesOf(prefix).map((e) => e.firstSeenAt).filter((x): x is number => x !== undefined).sort((a, b) => a - b);
  const spanMs = arrivals.length > 1 ? arrivals.at(-1)! - arrivals[0]! : NaN;
  const f = rig.ledger.figures(prefix, "m2x");
  console.log(`${label}_backlog=${held} held_ms=${heldMs}`);
  console.log(`${label}_msgs_per_s=${((arrivals.length - 1) / (spanMs / 1000)).toFixed(1)}`);
  console.log(`${label}_span_ms=${spanMs}`);
  console.log(`${label}_out_of_order=${timings(rig.ledger, prefix, "m2x").outOfOrder}`);
  console.log(`${label}_delivered=${f.delivered}/${held} reported=${f.reported} duplicates=${f.visibleDuplicates} loadavg_1m=${loadavg()[0]!.toFixed(2)}`);
}

/**
 * Parley's own delivery rate on one conversation: the message-xmpp queue is paused (the kill
 * switch, as an operator pauses a network) while bob sends `n` and Parley accepts them into Redis;
 * then resumed, and the arrivals at alice's client are timed.
 */
async function drainQueue(rig: ChaosRig, n: number, prefix: string): Promise<void> {
  const redis = new Redis(rig.redis.url);
  try {
    const [, found] = await redis.scan("0", "MATCH", "*{message-xmpp}:*", "COUNT", 100_000);
    // BullMQ's own keys (`<prefix>:{message-xmpp}:meta`), not Parley's lines (`<prefix>:dlv:ord:{message-xmpp}:…`).
    const bullPrefix = found.map((k) => /^(.*):\{message-xmpp\}:(?:meta|events|id)$/.exec(k)?.[1]).find((p) => p !== undefined && !p.includes(":dlv:"));
    if (bullPrefix === undefined) throw new Error("no message-xmpp queue in Redis");
    const q = new Queue("{message-xmpp}", { connection: redis, prefix: bullPrefix });
    await q.pause();
    const t0 = Date.now();
    try {
      let next = 0;
      await Promise.all(Array.from({ length: WINDOW }, async () => { while (next < n) await rig.send("m2x", `${prefix}${next++}`); }));
      let last = "";
      await until("the held messages stored", async () => {
        const c = await q.getJobCounts("wait", "delayed", "active", "completed");
        const seen = `${JSON.stringify(c)} delivered=${timings(rig.ledger, prefix, "m2x").delivered}`;
        if (seen !== last) { last = seen; if (process.env.BENCH_DEBUG) console.log(seen); }
        return (c.wait ?? 0) + (c.delayed ?? 0) >= n ? true : undefined;
      }, 180_000, 200);
    } finally {
      await q.resume();
    }
    const heldMs = Date.now() - t0;
    // Parley's own CPU for the drain (not the machine's load): what one core could do.
    const pid = rig.procs.get("a")?.child.pid;
    const cpu0 = cpuMs(pid);
    await until(`${n} held messages delivered`, () => (timings(rig.ledger, prefix, "m2x").delivered >= n ? true : undefined), 180_000, 100)
      .catch(() => undefined);
    const cpu = cpuMs(pid) - cpu0;
    drainFigures(rig, prefix, "m2x_drain", n, heldMs);
    await printRoomOrder(rig, prefix, "m2x_drain");
    console.log(`m2x_drain_parley_cpu_ms_per_msg=${(cpu / n).toFixed(2)} (one core's worth: ${(1000 / (cpu / n)).toFixed(0)} msg/s)`);
    await q.close();
  } finally {
    redis.disconnect();
  }
}

/** Hold the application-service port while bob sends up to `n`, release, and time the drain at alice's client. */
async function drain(rig: ChaosRig, n: number, prefix: string): Promise<void> {
  rig.balancer.hold();
  const t0 = Date.now();
  let next = 0;
  const lane = async () => {
    while (next < n && Date.now() - t0 < HOLD_MS) await rig.send("m2x", `${prefix}${next++}`);
  };
  try {
    await Promise.all(Array.from({ length: WINDOW }, lane));
  } finally {
    rig.balancer.release();
  }
  const held = next;
  const heldMs = Date.now() - t0;
  await until(`${held} held messages delivered`, () => (timings(rig.ledger, prefix, "m2x").delivered >= held ? true : undefined), 180_000, 100)
    .catch(() => undefined);
  drainFigures(rig, prefix, "m2x_drain_as", held, heldMs);
  await printRoomOrder(rig, prefix, "m2x_drain_as");
}

async function mapLimit<T, R>(xs: readonly T[], limit: number, f: (x: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(xs.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, xs.length) }, async () => {
    while (next < xs.length) { const i = next++; out[i] = await f(xs[i]!, i); }
  }));
  return out;
}

interface Mark { readonly conv: number; readonly seq: number; readonly sentAt: number; acked: boolean; seenAt: number | undefined; copies: number }
const MANY_TOKEN = /k:(?:m2x|x2m):\d+:\d+/g;

/** `convs` conversations at once: bob ↔ alice_i, one DM room each; `per` messages each way per conversation. */
async function many(rig: ChaosRig, names: readonly string[]): Promise<void> {
  const mappings = demoMappings();
  const t0 = Date.now();
  const alices: XmppTestUser[] = await mapLimit(names, 10, (n) => connectXmppUser(rig.prosody, n, { resource: "bench" }));
  try {
    const puppets = alices.map((a) => matrixAdapter.addressing.toNative(endpoint(a.bare, "xmpp"), mappings));
    const marks = new Map<string, Mark>();
    const seen = (token: string) => { const m = marks.get(token); if (m) { m.copies++; m.seenAt ??= Date.now(); } };
    for (const a of alices) {
      a.xmpp.on("stanza", (st: Stanza) => {
        if (st.is("message") && st.attrs.type !== "error" && String(st.attrs.from).split("/")[0] === rig.bobJid) for (const t of (st.getChildText("body") ?? "").match(MANY_TOKEN) ?? []) seen(t);
      });
    }
    const puppetSet = new Set(puppets);
    rig.bob.client.on("Room.timeline" as never, ((e: { getSender(): string | undefined; getType(): string; getContent(): Record<string, unknown> }) => {
      if (e.getType() !== "m.room.message" || !puppetSet.has(e.getSender() ?? "")) return;
      const body = e.getContent().body;
      for (const t of (typeof body === "string" ? body : "").match(MANY_TOKEN) ?? []) seen(t);
    }) as never);
    // One DM room per conversation: each alice_i greets bob; Parley opens the room, bob joins.
    const rooms = await mapLimit(alices, 10, async (a, i) => {
      const hello = `hello bob from ${names[i]}.`;
      await a.send(xml("message", { type: "chat", to: rig.bobJid, id: `hello-${i}` }, xml("body", {}, hello)));
      const room = (await rig.bob.waitForMessage(hello, puppets[i], 180_000)).getRoomId()!;
      await rig.bob.waitForEvent((e) => e.getRoomId() === room && e.getStateKey() === rig.bob.userId && e.getContent().membership === "join", 60_000, "bob joined");
      return room;
    });
    console.log(`conv${names.length}_setup_ms=${Date.now() - t0}`);
    const total = names.length * PER;
    for (const d of ["m2x", "x2m"] as const) {
      if (ONLY && ONLY !== d) continue;
      const tok = (i: number) => `k:${d}:${i % names.length}:${Math.floor(i / names.length)}`;
      const s0 = Date.now();
      if (d === "m2x") {
        let next = 0;
        await Promise.all(Array.from({ length: WINDOW }, async () => {
          while (next < total) {
            const i = next++;
            const m: Mark = { conv: i % names.length, seq: Math.floor(i / names.length), sentAt: Date.now(), acked: false, seenAt: undefined, copies: 0 };
            marks.set(tok(i), m);
            await rig.bob.say(rooms[m.conv]!, { msgtype: "m.text", body: tok(i) }).then(() => { m.acked = true; }, () => undefined);
          }
        }));
      } else {
        // Every alice writes her stanzas back to back, all at once.
        await Promise.all(alices.map(async (a, c) => {
          for (let q = 0; q < PER; q++) {
            const t = `k:x2m:${c}:${q}`;
            marks.set(t, { conv: c, seq: q, sentAt: Date.now(), acked: true, seenAt: undefined, copies: 0 });
            await a.send(xml("message", { type: "chat", to: rig.bobJid, id: t }, xml("body", {}, t)));
          }
        }));
      }
      const sourceMs = Date.now() - s0;
      const mine = () => [...marks.entries()].filter(([t]) => t.startsWith(`k:${d}:`)).map(([, m]) => m);
      await until(`${total} ${d} messages in ${names.length} conversations`, () => (mine().filter((m) => m.acked && m.seenAt !== undefined).length >= mine().filter((m) => m.acked).length ? true : undefined), 300_000, 200)
        .catch(() => undefined);
      const ms = mine().filter((m) => m.acked);
      const got = ms.filter((m) => m.seenAt !== undefined);
      const lat = got.map((m) => m.seenAt! - m.sentAt).sort((a, b) => a - b);
      const last = Math.max(...got.map((m) => m.seenAt!));
      let ooo = 0;
      for (let c = 0; c < names.length; c++) {
        const conv = got.filter((m) => m.conv === c).sort((a, b) => a.seq - b.seq);
        let latest = 0;
        for (const m of conv) { if (m.seenAt! < latest) ooo++; latest = Math.max(latest, m.seenAt!); }
      }
      const p = `conv${names.length}_${d}`;
      console.log(`${p}_msgs_per_s=${(got.length / ((last - s0) / 1000)).toFixed(1)}`);
      console.log(`${p}_source_msgs_per_s=${(total / (sourceMs / 1000)).toFixed(1)}`);
      console.log(`${p}_p50_ms=${pct(lat, 50)}`);
      console.log(`${p}_p99_ms=${pct(lat, 99)}`);
      console.log(`${p}_max_ms=${lat.at(-1) ?? NaN}`);
      console.log(`${p}_out_of_order=${ooo}`);
      console.log(`${p}_delivered=${got.length}/${ms.length} (sent ${total}) duplicates=${ms.reduce((n, m) => n + Math.max(0, m.copies - 1), 0)} loadavg_1m=${loadavg()[0]!.toFixed(2)}`);
    }
  } finally {
    for (const a of alices) await a.stop().catch(() => undefined);
  }
}

const names = Array.from({ length: CONVS }, (_, i) => `alice${i}`);
const rig = await startChaosRig({ xmppUsers: names });
try {
  console.log(`n=${N} window=${WINDOW} convs=${CONVS} per=${PER} loadavg_1m=${loadavg()[0]!.toFixed(2)}`);
  for (const d of ["m2x", "x2m"] as const) {
    if (!ONE || (ONLY && ONLY !== d)) continue;
    await run(rig, d, Math.min(100, N), `c:warm:${d}:`); // first-message costs (puppets, rooms, JIT) out of the figures
    const prefix = `c:bench:${d}:`;
    const sourceMs = await run(rig, d, N, prefix);
    print(d, prefix, N, rig, sourceMs);
    if (d === "m2x") await printRoomOrder(rig, prefix, d);
    if (d === "m2x" && DRAIN_N > 0) {
      await drainQueue(rig, DRAIN_N, "c:drainq:m2x:");
      if (DRAIN_AS) await drain(rig, DRAIN_N, "c:drain:m2x:");
    }
  }
  if (CONVS > 0) await many(rig, names);
} finally {
  await rig.stop();
}
process.exit(0);
