/**
 * Presence fan-out bench (issue 6): a presentity with 10,000 watchers on XMPP and Matrix over 100
 * domains (1% blocked, 1% politely blocked), on the real Redis and the real BullMQ delivery
 * service, with counting test-double adapters as the networks.
 *
 *   watchers=…                  permitted watchers, each checked to receive every change exactly once
 *   fanout_ms_p50= / _p99=      one change: read the watchers and enqueue all their notifications
 *   publish_to_enqueued_ms_p50= from publish() to every notification enqueued (includes the fan-out job's queue hop)
 *   redis_roundtrips_per_change= presence store round trips + enqueue round trips for one change
 *   burst_max_notifications_per_watcher= 100 changes within 1 s, throttle on (target ≤ 2)
 *   rss_mb_100k_subscriptions=  resident memory of this process with 100,000 subscriptions stored and the adapters imported
 *
 * Run: `npm run bench:presence` (PARLEY_REDIS_URL, default redis://127.0.0.1:6379; keys under a
 * unique prefix, deleted at the end).
 */
import { randomBytes } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { errorMessage } from "../src/errors/message.js";
import { Redis } from "ioredis";
import { createDeliveryService, type BullDeliveryService } from "../src/delivery/index.js";
import type { DeliveryHandler, DeliveryJob } from "../src/delivery/types.js";
import { asNetworkId, endpoint, endpointKey, type Endpoint, type NetworkId } from "../src/model/address.js";
import type { Adapter } from "../src/adapter/contract.js";
import type { PresenceNotification } from "../src/adapter/presence.js";
import { PresenceService } from "../src/presence/service.js";
import { PresenceAdmin } from "../src/presence/admin.js";
import { encodeRow } from "../src/presence/subscriptions.js";
import { PresenceKeys } from "../src/presence/keys.js";
import { deleteKeysUnder } from "../src/store/keys.js";
import { silentLogger } from "../src/log/logger.js";
import { testMappings } from "../test/support/mappings.js";
import { TestDoubleAdapter, TestDoublePeer } from "../test/support/test-double-adapter.js";

const REDIS_URL = process.env.PARLEY_REDIS_URL ?? "redis://127.0.0.1:6379";
const WATCHERS = Number(process.env.BENCH_WATCHERS ?? 10_000);
const CHANGES = Number(process.env.BENCH_CHANGES ?? 10);
const XMPP = asNetworkId("xmpp");
const MATRIX = asNetworkId("matrix");
const presentity = endpoint("star@chat.example.org", "xmpp");

const pct = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0; };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function waitFor(cond: () => boolean, timeoutMs: number, what: string) {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** 10,000 watchers: even ones on XMPP over 50 domains, odd ones on Matrix over 50 domains. */
function makeWatchers(n: number): Endpoint[] {
  const out: Endpoint[] = [];
  for (let i = 0; i < n; i++) {
    out.push(i % 2 === 0 ? endpoint(`w${i}@x${i % 50}.example.net`, "xmpp") : endpoint(`w${i}@m${i % 50}.example.com`, "matrix"));
  }
  return out;
}

async function storeSubscriptions(redis: Redis, keys: PresenceKeys, who: Endpoint, watchers: readonly Endpoint[]) {
  const at = new Date().toISOString();
  for (let i = 0; i < watchers.length; i += 2000) {
    const p = redis.pipeline();
    for (const w of watchers.slice(i, i + 2000)) {
      const row = encodeRow({ watcher: w, presentity: who, state: "approved", decidedBy: "presentity", at });
      p.hset(keys.watchers(who), endpointKey(w), row).hset(keys.watching(w), endpointKey(who), row);
    }
    await p.exec();
  }
}

class CountingPeer extends TestDoublePeer {
  readonly byNote = new Map<string, Map<string, number>>();
  count(n: PresenceNotification) {
    const note = n.presence.tuples[0]?.note?.en ?? "";
    let m = this.byNote.get(note);
    if (!m) this.byNote.set(note, (m = new Map()));
    m.set(n.watcher.address, (m.get(n.watcher.address) ?? 0) + 1);
  }
}
class CountingAdapter extends TestDoubleAdapter {
  constructor(readonly counter: CountingPeer) { super(counter); }
  override async deliverPresence(n: PresenceNotification) { this.counter.count(n); }
}

async function main() {
  const prefix = `bench-h6-${randomBytes(4).toString("hex")}`;
  const redis = new Redis(REDIS_URL);
  const peer = new CountingPeer();
  const adapters = new Map<NetworkId, Adapter>([[XMPP, new CountingAdapter(peer)], [MATRIX, new CountingAdapter(peer)]]);
  const mappings = testMappings({ networks: { xmpp: {}, matrix: {} }, domains: { "chat.example.org": { home: "xmpp" } } });
  let delivery: BullDeliveryService | undefined;
  try {
    delivery = await createDeliveryService({ networks: [XMPP, MATRIX], prefix, redisUrl: REDIS_URL, concurrency: { presence: 64 } });
    let enqueueRoundTrips = 0;
    const realEnqueue = delivery.enqueue.bind(delivery);
    delivery.enqueue = async (specs) => { enqueueRoundTrips++; return realEnqueue(specs); };
    const mk = (fanoutIntervalMs: number) => new PresenceService({
      redis, prefix: `${prefix}:`, mappings: () => mappings, delivery: delivery!, adapters: (n) => adapters.get(n),
      hasPresence: (n) => n === XMPP || n === MATRIX, log: silentLogger(), fanoutIntervalMs,
    });
    let service = mk(0);
    const fanoutMs: number[] = [];
    let fanoutDone = 0;
    let failures = 0;
    const handler: DeliveryHandler = {
      async deliver(job: DeliveryJob) {
        const isFanout = (job.payload as { op?: string }).op === "fanout";
        const t0 = performance.now();
        try {
          await service.handleJob(job);
        } catch (e) {
          failures++;
          if (failures <= 3) console.error(`job ${job.kind} failed: ${errorMessage(e)}`);
          throw e;
        }
        if (isFanout) { fanoutMs.push(performance.now() - t0); fanoutDone++; }
      },
      async onFinalFailure() {},
    };
    await delivery.startWorkers(handler);

    const all = makeWatchers(WATCHERS);
    const keys = new PresenceKeys(`${prefix}:`);
    await storeSubscriptions(redis, keys, presentity, all);
    const blocked = all.filter((_, i) => i % 100 === 7).map((w) => w.address);
    const polite = all.filter((_, i) => i % 100 === 13).map((w) => w.address);
    await new PresenceAdmin(service).setAccessRules("xmpp/star@chat.example.org", { blockSubscribers: blocked, politelyBlocked: polite }, "bench");
    await waitFor(() => fanoutDone >= 1, 60_000, "the access-rule fan-out");
    const permitted = all.length - blocked.length - polite.length;
    // No presence is known yet, so the rules' fan-out sends nothing; let its jobs drain.
    for (;;) {
      const counts = await delivery.counts();
      const busy = Object.entries(counts).filter(([q]) => q.startsWith("presence")).reduce((n, [, c]) => n + (c.waiting ?? 0) + (c.active ?? 0) + (c.delayed ?? 0), 0);
      if (busy === 0) break;
      await sleep(20);
    }
    fanoutMs.length = 0;
    fanoutDone = 0;

    // One change at a time, each fanned out at once (throttle off), each checked in full.
    const publishToEnqueued: number[] = [];
    let roundTrips = 0;
    let notifyRoundTrips = 0;
    let notified = 0;
    for (let c = 0; c < CHANGES; c++) {
      const note = `change ${c}`;
      const rt0 = service.parts.store.roundTrips + enqueueRoundTrips;
      const t0 = performance.now();
      const r = await service.publish({ kind: "presence", presence: { presentity, tuples: [{ id: "r", service: "im", basic: c % 2 ? "closed" : "open", note: { en: note }, timestamp: new Date().toISOString() }], version: Date.now() * 1000 + c, provenance: { source: "origin" }, extensions: {} }, authenticatedBy: { method: "network" } }, XMPP);
      if (r.status !== "accepted") throw new Error(`publish: ${JSON.stringify(r)}`);
      await waitFor(() => fanoutDone > c, 60_000, "the fan-out");
      publishToEnqueued.push(performance.now() - t0);
      if (c === 0) roundTrips = service.parts.store.roundTrips + enqueueRoundTrips - rt0;
      await waitFor(() => (peer.byNote.get(note)?.size ?? 0) >= permitted, 120_000, `${note} delivered`);
      if (c === 0) { notifyRoundTrips = service.parts.store.roundTrips + enqueueRoundTrips - rt0 - roundTrips; notified = permitted; }
      const got = peer.byNote.get(note)!;
      for (const b of [...blocked, ...polite]) if (got.has(b)) throw new Error(`${b} (blocked) was notified`);
      if ([...got.values()].some((n) => n !== 1)) throw new Error("a watcher was notified twice for one change");
    }
    // Make sure nothing more arrives for the last change.
    await sleep(200);
    if (peer.byNote.get(`change ${CHANGES - 1}`)!.size !== permitted) throw new Error("extra notifications");

    // Burst: 100 changes within 1 s with the throttle on (1 s): at most 2 per watcher.
    service = mk(1000);
    service.start();
    const burstNotes: string[] = [];
    const burstStart = Date.now();
    const burstVersion = Date.now() * 1000;
    // Each change is handed over at its own 10 ms slot, whether or not the previous one has returned.
    const handed = await Promise.all(Array.from({ length: 100 }, (_, c) => {
      const note = `burst ${c}`;
      burstNotes.push(note);
      return sleep(c * 10).then(() => service.publish({ kind: "presence", presence: { presentity, tuples: [{ id: "r", service: "im", basic: "open", note: { en: note }, timestamp: new Date().toISOString() }], version: burstVersion + c, provenance: { source: "origin" }, extensions: {} }, authenticatedBy: { method: "network" } }, XMPP));
    }));
    const burstMs = Date.now() - burstStart;
    if (handed.some((r) => r.status === "refused")) throw new Error("a burst change was refused");
    await waitFor(() => (peer.byNote.get("burst 99")?.size ?? 0) >= permitted, 120_000, "the newest burst state everywhere");
    await sleep(1500); // let any further trailing fan-out run before counting
    service.stop();
    const perWatcher = new Map<string, number>();
    for (const note of burstNotes) for (const [w, n] of peer.byNote.get(note) ?? []) perWatcher.set(w, (perWatcher.get(w) ?? 0) + n);
    const burstMax = Math.max(...perWatcher.values());

    // Memory: 100,000 subscriptions stored (10 more presentities with 9,000 watchers each), measured
    // in a fresh process that runs the presence service, the delivery workers and the adapters.
    for (let p = 0; p < 10; p++) await storeSubscriptions(redis, keys, endpoint(`p${p}@chat.example.org`, "xmpp"), makeWatchers(9_000));
    const childOut = memoryChild(prefix);

    console.log(`watchers=${permitted}`);
    console.log(`watchers_total=${all.length} blocked=${blocked.length} politely_blocked=${polite.length} domains=100`);
    console.log(`fanout_ms_p50=${pct(fanoutMs, 50).toFixed(1)}`);
    console.log(`fanout_ms_p99=${pct(fanoutMs, 99).toFixed(1)}`);
    console.log(`publish_to_enqueued_ms_p50=${pct(publishToEnqueued, 50).toFixed(1)}`);
    console.log(`redis_roundtrips_per_change=${roundTrips}`);
    console.log(`redis_roundtrips_per_notification=${(notifyRoundTrips / Math.max(1, notified)).toFixed(3)}`);
    console.log(`burst_changes=100 burst_ms=${burstMs} burst_max_notifications_per_watcher=${burstMax}`);
    console.log(`subscriptions_stored=${all.length + 90_000}`);
    console.log(childOut);
  } finally {
    await delivery?.close();
    await deleteKeysUnder(redis, prefix);
    redis.disconnect();
  }
}

/**
 * The memory child: a process like a single Parley, run from compiled JavaScript as in production
 * (`npm run build` output, here under dist/.bench-presence): Redis connections, the delivery
 * service with its workers, the presence service, every adapter module imported — over the 100,000
 * stored subscriptions (they live in Redis); it reads the biggest watcher list (10,000) and runs
 * three fan-outs to it before measuring.
 */
const CHILD = `
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
const [dist, prefix, url] = process.argv.slice(2);
const { Redis } = await import("ioredis");
const { createDeliveryService } = await import(dist + "/src/delivery/index.js");
const { PresenceService } = await import(dist + "/src/presence/service.js");
const { AccessRulesSchema } = await import(dist + "/src/model/access.js");
const loaded = [];
for (const net of ["index.js", "xmpp/index.js", "matrix/index.js", "email/index.js"]) {
  const f = dist + "/adapters/" + net;
  if (!existsSync(f)) continue;
  try { await import(f); loaded.push("adapters/" + net); } catch (e) { loaded.push("adapters/" + net + "(failed)"); }
}
const access = AccessRulesSchema.parse({});
const policy = { enabled: true, messaging: true, presence: true, acceptUnauthenticated: false, allowPeers: [], denyPeers: [], access };
const mappings = { networks: new Map(), domains: new Map(), defaultPolicy: policy };
const redis = new Redis(url);
const delivery = await createDeliveryService({ networks: ["xmpp", "matrix"], prefix: prefix + "-mem", redisUrl: url });
const service = new PresenceService({ redis, prefix: prefix + ":", mappings: () => mappings, delivery, adapters: () => undefined, hasPresence: () => true, log: (await import("pino")).pino({ level: "silent" }) });
await delivery.startWorkers({ deliver: async () => undefined, onFinalFailure: async () => undefined });
const subs = (await service.subscriptionsOf({ address: "star@chat.example.org", network: "xmpp" }, "watchers")).length;
for (let i = 0; i < 3; i++) await service.handleJob({ kind: "presence", network: "xmpp", key: "bench", attempt: 1, payload: { op: "fanout", presentity: { address: "star@chat.example.org", network: "xmpp" }, force: true } });
globalThis.gc?.();
console.log("subscriptions_read=" + subs);
console.log("rss_mb_100k_subscriptions=" + (process.memoryUsage().rss / 1048576).toFixed(1));
console.log("adapters_loaded=" + (loaded.join(",") || "none"));
await delivery.close();
const { deleteKeysUnder } = await import(dist + "/src/store/keys.js");
await deleteKeysUnder(redis, prefix + "-mem");
redis.disconnect();
`;

function memoryChild(prefix: string): string {
  const root = fileURLToPath(new URL("..", import.meta.url));
  const dist = join(root, "dist", ".bench-presence");
  spawnSync(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", join(root, "tsconfig.build.json"), "--outDir", dist], { encoding: "utf8" });
  if (!existsSync(join(dist, "src", "presence", "service.js"))) throw new Error("the build for the memory child failed");
  const script = join(dist, "memory-child.mjs");
  writeFileSync(script, CHILD);
  const run = (flags: string[]) => {
    const child = spawnSync(process.execPath, ["--expose-gc", ...flags, script, dist, prefix, REDIS_URL], { encoding: "utf8", cwd: root });
    if (child.status !== 0) throw new Error(`memory child failed: ${child.stderr}`);
    return child.stdout.trim();
  };
  const plain = run([]);
  // The same with V8's young generation capped (NODE_OPTIONS=--max-semi-space-size=8, docs/presence.md).
  const semi8 = run(["--max-semi-space-size=8"]).split("\n").find((l) => l.startsWith("rss_mb"))?.replace("rss_mb_100k_subscriptions", "rss_mb_100k_subscriptions_semi8") ?? "";
  return `${plain}\n${semi8}`;
}

main().catch((e: unknown) => { console.error(e); process.exit(1); });
