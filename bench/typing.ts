/**
 * Typing storm bench (issue 18): does a storm of typing changes delay messages in the same
 * conversation? The whole core (buildGateway: accept → route → policy → BullMQ → worker →
 * adapter) on the real Redis, between two test-double networks; the recipient's network shows
 * typing (it implements `deliverTyping`, as the XMPP and Matrix adapters do).
 *
 * Two phases of `seconds` each, messages alice → bob at `rate`/s, latency from `accept` to the
 * recipient adapter's hand-off:
 *   quiet:  messages only
 *   storm:  the same, plus 100 typing changes per second from alice to bob (`typing_rate`)
 * Prints p50/p99 of both phases, their ratio (target: p99 rises by less than 2×), and how many
 * typing changes were offered and how many reached the recipient's adapter (rate-limited to one
 * per conversation per second by the best-effort path, src/core/typing.ts).
 *
 * Run: `npm run bench:typing [-- --seconds=10 --rate=50 --typing_rate=100]`
 * (PARLEY_REDIS_URL, default redis://127.0.0.1:6379; keys under a unique prefix, deleted at the end).
 */
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { deleteKeysUnder } from "../src/store/keys.js";
import { parseArgs } from "node:util";
import { gatewayConfigSchema, type GatewayConfig } from "../src/config/index.js";
import { buildGateway, type BuiltGateway } from "../src/build.js";
import type { AdapterFactory } from "../src/adapter/contract.js";
import type { TypingNotice } from "../src/model/interactions.js";
import type { Message } from "../src/model/message.js";
import { silentLogger } from "../src/log/logger.js";
import { testDoubleFactory, TestDoublePeer, type TestDoubleConfig } from "../test/support/test-double-adapter.js";
import { testMappings } from "../test/support/mappings.js";
import { alice, benchMessage, bob, sentAt } from "./gateway-rig.js";

const { values: args } = parseArgs({ options: { seconds: { type: "string" }, rate: { type: "string" }, typing_rate: { type: "string" } }, strict: false });
const num = (v: unknown, env: string, d: number) => Number(typeof v === "string" ? v : process.env[env] ?? d);
const SECONDS = num(args.seconds, "BENCH_SECONDS", 10);
const RATE = num(args.rate, "BENCH_RATE", 50);
const TYPING_RATE = num(args.typing_rate, "BENCH_TYPING_RATE", 100);
const REDIS = process.env.PARLEY_REDIS_URL ?? "redis://127.0.0.1:6379";

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: readonly number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0; };

/** The test double's network, able to show typing (counted). */
function typingTarget(peer: TestDoublePeer, shown: TypingNotice[]): AdapterFactory<TestDoubleConfig> {
  const base = testDoubleFactory("beta", peer);
  return {
    ...base,
    capabilities: { ...base.capabilities, chat: { reactions: false, retractions: false, replies: true, typing: true } },
    create: (config) => Object.assign(base.create(config), { deliverTyping: async (n: TypingNotice) => { shown.push(n); } }),
  };
}

async function start(prefix: string, onDeliver: (m: Message) => void, shown: TypingNotice[]): Promise<BuiltGateway> {
  const peer = new TestDoublePeer();
  peer.onMessage = onDeliver;
  const factories = [testDoubleFactory("alpha"), typingTarget(peer, shown)];
  const config = gatewayConfigSchema(factories).parse({
    redis: { url: REDIS, keyPrefix: `${prefix}:` }, admin: { enabled: false }, adapters: { alpha: {}, beta: {} }, trace: { enabled: false },
  }) as GatewayConfig;
  const mappings = testMappings({ networks: { alpha: {}, beta: {} }, domains: { "alpha.example": { home: "alpha" }, "beta.example": { home: "beta" } } });
  const built = await buildGateway({ config, mappings, factories, log: silentLogger(), role: "all" });
  await built.start();
  return built;
}

/** `count` calls of `f`, paced at `perSecond`, until `stop()` is true. */
async function paced(perSecond: number, stop: () => boolean, f: (i: number) => Promise<void>): Promise<number> {
  const t0 = now();
  let i = 0;
  while (!stop()) {
    const due = t0 + (i * 1000) / perSecond;
    if (due > now()) await sleep(due - now());
    await f(i++);
  }
  return i;
}

async function phase(gw: BuiltGateway, latencies: number[], storm: boolean): Promise<{ offered: number }> {
  const until = now() + SECONDS * 1000;
  const stop = () => now() >= until;
  const a = alice(0);
  const messages = paced(RATE, stop, async (i) => {
    const r = await gw.gateway.accept(a.network, [{ kind: "message", message: benchMessage(i, now(), `m${i}`, 1) }]);
    if (r[0]?.status !== "accepted") throw new Error(`message not accepted: ${JSON.stringify(r[0])}`);
  });
  const typing = storm
    ? paced(TYPING_RATE, stop, async (i) => {
      await gw.gateway.accept(a.network, [{ kind: "typing", from: a, to: bob, state: i % 2 === 0 ? "composing" : "paused", authenticatedBy: { method: "network" } }]);
    })
    : Promise.resolve(0);
  const [sent, offered] = await Promise.all([messages, typing]);
  const deadline = now() + 30_000;
  while (latencies.length < sent && now() < deadline) await sleep(10);
  if (latencies.length < sent) throw new Error(`${sent - latencies.length} messages not delivered`);
  return { offered };
}

async function main(): Promise<void> {
  const prefix = `bench-typing-${randomBytes(4).toString("hex")}`;
  let latencies: number[] = [];
  const shown: TypingNotice[] = [];
  const gw = await start(prefix, (m) => latencies.push(now() - sentAt(m)), shown);
  try {
    await phase(gw, latencies, false); // warm-up
    latencies = [];
    await phase(gw, latencies, false);
    const quiet = latencies;
    latencies = [];
    const { offered } = await phase(gw, latencies, true);
    const storm = latencies;
    const ratio = pct(storm, 99) / Math.max(pct(quiet, 99), 0.001);
    console.log(`messages_per_phase=${quiet.length}/${storm.length} rate=${RATE}/s seconds=${SECONDS}`);
    console.log(`quiet_ms_p50=${pct(quiet, 50).toFixed(2)} quiet_ms_p99=${pct(quiet, 99).toFixed(2)}`);
    console.log(`storm_ms_p50=${pct(storm, 50).toFixed(2)} storm_ms_p99=${pct(storm, 99).toFixed(2)}`);
    console.log(`typing_offered=${offered} (${TYPING_RATE}/s) typing_shown=${shown.length}`);
    console.log(`p99_ratio=${ratio.toFixed(2)} (target < 2) ${ratio < 2 ? "PASS" : "FAIL"}`);
    if (ratio >= 2) process.exitCode = 1;
  } finally {
    await gw.stop();
    const admin = new Redis(REDIS);
    await deleteKeysUnder(admin, prefix);
    admin.disconnect();
  }
}

await main();
