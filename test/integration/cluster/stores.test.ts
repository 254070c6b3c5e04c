/**
 * The gateway's own stores on a real local Redis Cluster (3 masters + 3 replicas;
 * test/support/redis-cluster.ts), issue 14: every MULTI and script touches one slot (presence
 * keys carry their shard's hash tag, src/store/slots.ts), and `redis.cluster` runs the whole
 * gateway. Each test would fail with CROSSSLOT on the cluster if any operation spanned two slots.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Cluster } from "ioredis";
import { asNetworkId, endpoint, type Endpoint } from "../../../src/model/address.js";
import { newCanonicalId } from "../../../src/model/ids.js";
import { keyspace, processReports, ProcessHeartbeat, RedisAdapterStateStore, RedisIdMap, RedisInboundClaims } from "../../../src/store/index.js";
import { RedisRateLimiter } from "../../../src/limits/rate-limiter.js";
import { MappingsVersions } from "../../../src/mappings/versions.js";
import { SubscriptionStore } from "../../../src/presence/subscriptions.js";
import { PresenceKeys } from "../../../src/presence/keys.js";
import { RedisCluster } from "../../support/redis-cluster.js";
import { checkRedis } from "../../../src/cli/doctor.js";
import { gatewayConfigSchema, type GatewayConfig } from "../../../src/config/schema.js";
import { startTestGateway, testPrefix, type TestGateway } from "../../support/gateway.js";
import { until } from "../../support/until.js";
import { aliceToBob, alice as alphaAlice, twoNetworkMappings, twoNetworks } from "../../support/two-networks.js";
import { PresenceHarness, alice, bob, dave, erin } from "../presence/support/harness.js";

const SHARDS = 16;
let cluster: RedisCluster;
let redis: Cluster;
let h: PresenceHarness | undefined;
let gw: TestGateway | undefined;
beforeAll(async () => {
  cluster = await RedisCluster.start({ appendfsync: "everysec" });
  redis = cluster.client();
}, 60_000);
afterEach(async () => {
  await h?.close();
  h = undefined;
  await gw?.destroy();
  gw = undefined;
});
afterAll(async () => {
  redis?.disconnect();
  await cluster?.destroy();
});

function harness(options: ConstructorParameters<typeof PresenceHarness>[0] = {}): PresenceHarness {
  return new PresenceHarness({ ...options, redis: cluster.client(), shards: SHARDS });
}

describe("stores on a Redis Cluster (issue 14)", () => {
  it("T-2.5.2 claims, adapter state, leases and the id map work on the cluster", async () => {
    const keys = keyspace(testPrefix("cl"), { cluster: true });
    const claims = new RedisInboundClaims(redis, keys, 60);
    const first = newCanonicalId();
    expect(await claims.claim("matrix|event||$e1", first)).toBeUndefined();
    expect(await claims.claim("matrix|event||$e1", newCanonicalId())).toBe(first);
    const state = new RedisAdapterStateStore(redis, keys, asNetworkId("xmpp"));
    await state.set("k", "v", 100);
    expect(await state.get("k")).toBe("v");
    expect(await state.lease("link", "p1", 5000)).toBe(true);
    expect(await state.lease("link", "p2", 5000)).toBe(false);
    await state.releaseLease("link", "p1");
    expect(await state.lease("link", "p2", 5000)).toBe(true);
    const ids = new RedisIdMap(redis, keys);
    for (let i = 0; i < 20; i++) {
      const c = newCanonicalId();
      const native = { network: "matrix", kind: "event", id: `$ev${i}`, scope: `!room${i}` } as const;
      await ids.link(c, native);
      expect(await ids.canonicalFor(native)).toBe(c);
      expect(await ids.nativeFor(c, "matrix", "event")).toEqual(native);
    }
  });

  it("issue 14's shared state: the rate limiter, the adapter state's maps (live puppets), the process list", async () => {
    const keys = keyspace(testPrefix("shared"), { cluster: true });
    const limiter = new RedisRateLimiter(redis, keys);
    const taken = [];
    for (let i = 0; i < 4; i++) taken.push((await limiter.take("xmpp", "sender", `s${i % 2}@example.org`, { perMinute: 2 })).allowed);
    expect(taken).toEqual([true, true, true, true]);
    expect(await limiter.take("xmpp", "sender", "s0@example.org", { perMinute: 2 })).toMatchObject({ allowed: false });
    const state = new RedisAdapterStateStore(redis, keys, asNetworkId("matrix"));
    for (let i = 0; i < 30; i++) await state.mapSet("live-puppets", `@p${i}:hs`, `{"presence":"online"}`);
    await state.mapDelete("live-puppets", "@p0:hs");
    expect(await state.mapGet("live-puppets", "@p1:hs")).toBe(`{"presence":"online"}`);
    const seen = new Set<string>();
    let cursor = "0";
    do { const r = await state.mapScan("live-puppets", cursor, 7); cursor = r.cursor; for (const [f] of r.entries) seen.add(f); } while (cursor !== "0");
    expect(seen.size).toBe(29);
    const beat = new ProcessHeartbeat(redis, keys, "workers", () => [{ network: "email", ready: true, delivering: true }], (e) => { throw e; });
    beat.start();
    await until("the heartbeat", async () => ((await processReports(redis, keys)).live.length === 1 ? true : undefined));
    await beat.stop();
    expect((await processReports(redis, keys)).live).toEqual([]);
  });

  it("mappings versions: store, history trimming and current on one slot", async () => {
    const versions = new MappingsVersions(redis, keyspace(testPrefix("mv"), { cluster: true }));
    for (let i = 0; i < 25; i++) await versions.store(`text ${i}`, "f.yaml", "test");
    expect((await versions.current())?.text).toBe("text 24");
    expect(await versions.get(1)).toBeUndefined();
  });

  it("subscriptions: both sides and the unshown set of endpoints on different shards", async () => {
    const keys = new PresenceKeys(`${testPrefix("sub")}:`, SHARDS);
    const subs = new SubscriptionStore(redis, keys);
    const watchers: Endpoint[] = Array.from({ length: 12 }, (_, i) => endpoint(`w${i}@d.example`, "xmpp"));
    expect(new Set(watchers.map((w) => keys.shardOf(w))).size).toBeGreaterThan(4);
    for (const w of watchers) await subs.put({ watcher: w, presentity: alice, state: "pending", at: new Date().toISOString() }, "add");
    expect((await subs.list(alice, "watchers")).length).toBe(12);
    expect((await subs.list(watchers[3]!, "watching")).map((s) => s.presentity.address)).toEqual([alice.address]);
    expect((await subs.takeUnshown(alice)).length).toBe(12);
  });

  it("T-2.2.5 T-3.2.3 presence: subscribe, publish, fan-out (inline and by job) and probes across shards", async () => {
    h = harness();
    await h.subscribe(bob, alice);
    await h.publish(alice, "open", { note: "here" });
    await h.drain();
    expect(h.seen(bob, alice).map((p) => p.tuples[0]!.basic)).toEqual(["open"]);
    // A big fan-out goes through a job; its reads are one pipeline on the presentity's slot.
    await h.admin.setAccessRules(`${erin.network}/${erin.address}`, { subscribe: "anyone" }, "test");
    const many = Array.from({ length: 300 }, (_, i) => endpoint(`w${i}@d${i % 5}.example.net`, "xmpp"));
    for (const w of many) await h.act("request", w, erin);
    await h.drain();
    h.clearPeers();
    await h.publish(erin, "open");
    await h.drain();
    expect(new Set(h.peer("xmpp").presences.map((n) => n.watcher.address)).size).toBe(300);
    // Probes of a watcher who watches presentities on many shards: one read pipeline per shard.
    const presentities = Array.from({ length: 20 }, (_, i) => endpoint(`p${i}@matrix.example.org`, "matrix"));
    for (const p of presentities) {
      await h.subscribe(dave, p);
      await h.publish(p, "open");
    }
    await h.drain();
    h.clearPeers();
    for (const p of presentities) await h.probe(dave, p);
    await h.drain();
    expect(new Set(h.seen(dave).map((p) => p.presentity.address)).size).toBe(20);
  });

  it("T-3.2.4 liveness and throttled fan-outs on per-shard live and due sets", async () => {
    h = harness({ livenessTimeoutMs: 60_000, fanoutIntervalMs: 1000 });
    const presentities = Array.from({ length: 10 }, (_, i) => endpoint(`p${i}@chat.example.org`, "xmpp"));
    for (const p of presentities) {
      await h.subscribe(bob, p);
      await h.publish(p, "open");
    }
    await h.drain();
    h.clearPeers();
    // Inside the throttle interval: the change waits on its shard's due set, the tick fans it out.
    await h.publish(presentities[0]!, "open", { note: "busy" });
    await h.drain();
    expect(h.seen(bob, presentities[0])).toEqual([]);
    h.clock += 1500;
    expect((await h.service.tick()).fanouts).toBe(1);
    await h.drain();
    expect(h.seen(bob, presentities[0]).at(-1)?.tuples[0]?.note).toEqual({ en: "busy" });
    h.clearPeers();
    h.clock += 30_000;
    await h.service.touch(presentities.slice(0, 4));
    h.clock += 31_000;
    expect(await h.service.markStale()).toBe(6);
    await h.drain();
    expect(h.seen(bob).filter((p) => p.tuples[0]?.basic === "closed")).toHaveLength(6);
  });

  it("`parley doctor` checks every master of a configured cluster", async () => {
    const config = gatewayConfigSchema([]).parse({ redis: { cluster: cluster.seeds }, adapters: {} }) as GatewayConfig;
    const findings = await checkRedis(config, 3000);
    expect(findings[0]).toMatchObject({ check: "redis", status: "ok", detail: expect.stringContaining("(3 masters)") });
    expect(findings.filter((f) => f.status === "fail")).toEqual([]);
  });

  it("T-2.1.3 `redis.cluster`: the whole gateway carries a message through the cluster", async () => {
    const { betaPeer, factories } = twoNetworks();
    gw = await startTestGateway({ factories, adapters: { alpha: {}, beta: {} }, mappings: twoNetworkMappings, cluster: cluster.seeds, limits: { enabled: true } }); // the shared rate limits on the accept path too
    const m = aliceToBob("hello over the cluster");
    const [result] = await gw.gateway.accept(alphaAlice.network, [{ kind: "message", message: m }]);
    expect(result).toEqual({ status: "accepted", messageId: m.id });
    await until("delivery", () => betaPeer.messages.find((x) => x.id === m.id));
  });
});
