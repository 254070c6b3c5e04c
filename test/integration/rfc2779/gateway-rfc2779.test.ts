/**
 * RFC 2779 requirements proved on the whole core (real Redis, BullMQ, presence) with test-double
 * networks: §2's round trips per message (2.0), no message bodies in logs (2.5.3 a), and id-map
 * lookups that stay O(1) in time and bounded in memory as the map grows (2.2.2).
 */
import { Redis } from "ioredis";
import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { endpoint } from "../../../src/model/address.js";
import { newCanonicalId, type CanonicalId } from "../../../src/model/ids.js";
import { MessageSchema } from "../../../src/model/message.js";
import { createLogger } from "../../../src/log/logger.js";
import { RedisIdMap } from "../../../src/store/id-map.js";
import { deleteKeysUnder, keyspace } from "../../../src/store/index.js";
import { startTestGateway, testPrefix, type TestGateway } from "../../support/gateway.js";
import { waitFor } from "../delivery/helpers.js";
import { alice, aliceToBob, twoNetworkMappings, twoNetworks } from "../../support/two-networks.js";

const mappings = twoNetworkMappings;
const message = aliceToBob;
const networks = twoNetworks;

/**
 * Every Redis command touching keys under `prefix`, seen by MONITOR, with the client that sent it.
 * Round trips: a MULTI … EXEC block from one client counts once, commands a Lua script runs inside
 * Redis (source `lua`) count none, every other command once (so pipelined commands are
 * over-counted: the figure is an upper bound).
 */
class CommandCounter {
  private monitor: Redis | undefined;
  readonly seen: Array<{ source: string; args: string[] }> = [];
  private readonly inMulti = new Set<string>();
  constructor(private readonly prefix: string) {}

  async start(): Promise<void> {
    this.monitor = await new Redis("redis://127.0.0.1:6379").monitor();
    this.monitor.on("monitor", (_time: string, args: string[], source: string) => {
      const cmd = args[0]?.toUpperCase();
      if (cmd === "MULTI" || cmd === "EXEC") { this.seen.push({ source, args }); return; }
      // The trace buffer's flush (one script per process every flushMs, for every message in that
      // window) is not part of one message's accept path; it is measured by bench:delivery only=trace.
      if (args.some((a) => a.includes(`${this.prefix}:trace:`))) return;
      if (args.some((a) => a.includes(this.prefix))) this.seen.push({ source, args });
    });
  }

  /** Send a marker command and wait until MONITOR has reported it: everything before it has been seen. */
  async sentinel(): Promise<number> {
    const key = `${this.prefix}:sentinel:${Math.random().toString(36).slice(2)}`;
    const client = new Redis("redis://127.0.0.1:6379");
    try { await client.get(key); } finally { client.disconnect(); }
    let at = -1;
    await waitFor(() => { at = this.seen.findIndex((s) => s.args.includes(key)); return at >= 0; }, 5_000, "MONITOR to report the sentinel");
    return at;
  }

  /** Commands and round trips (MULTI…EXEC once) from `from`, ignoring MULTI/EXEC blocks with no prefixed key. */
  since(from: number, to: number): { commands: number; roundTrips: number; names: string[] } {
    // MONITOR names a script's own commands' client "lua".
    let commands = 0;
    let roundTrips = 0;
    const names: string[] = [];
    const pending = new Map<string, number>();
    for (const { source, args } of this.seen.slice(from, to)) {
      const cmd = args[0]!.toUpperCase();
      if (cmd === "MULTI") { pending.set(source, 0); continue; }
      if (cmd === "EXEC") {
        if ((pending.get(source) ?? 0) > 0) roundTrips++;
        pending.delete(source);
        continue;
      }
      commands++;
      names.push(source === "lua" ? `(${cmd})` : cmd);
      if (source === "lua") continue;
      if (pending.has(source)) pending.set(source, pending.get(source)! + 1);
      else roundTrips++;
    }
    return { commands, roundTrips, names };
  }

  async stop(): Promise<void> { this.monitor?.disconnect(); }
}

let gw: TestGateway | undefined;
let counter: CommandCounter | undefined;
afterEach(async () => {
  await counter?.stop();
  counter = undefined;
  await gw?.destroy();
  gw = undefined;
});

describe("RFC 2779 on the whole core", () => {
  it("T-2.0 accepting one message costs a bounded, small number of Redis round trips (counted with MONITOR)", async () => {
    const { factories } = networks();
    const prefix = testPrefix("rt");
    // Ingress only: no delivery worker polls Redis while the accept path is counted.
    gw = await startTestGateway({ factories, adapters: { alpha: {}, beta: {} }, mappings, prefix, role: "ingress" });
    counter = new CommandCounter(prefix);
    await counter.start();
    // Warm-up: scripts loaded, queues known; then count a second, ordinary message.
    const withNativeId = (text: string) => MessageSchema.parse({ ...message(text), nativeIds: [{ network: "alpha", kind: "stanza-id", id: `n-${text.length}-${Date.now()}` }] });
    await gw.gateway.accept(alice.network, [{ kind: "message", message: withNativeId("warm up") }]);
    // MONITOR reports asynchronously (later still under load): wait until it has reported the
    // warm-up's commands before marking where the counted message starts.
    const before = (await counter.sentinel()) + 1;
    const m = withNativeId("count my round trips"); // an inbound message as adapters give it: its native id is claimed (replays)
    const [r] = await gw.gateway.accept(alice.network, [{ kind: "message", message: m }]);
    expect(r).toEqual({ status: "accepted", messageId: m.id });
    // MONITOR reports commands in the order Redis ran them: a sentinel read after the accept marks the end.
    const end = await counter.sentinel();
    const counted = counter.since(before, end);
    console.info(`T-2.0 accept of one message: ${counted.roundTrips} round trips, ${counted.commands} commands incl. those run by scripts (${counted.names.join(" ")})`);
    // Measured 2026-12: 4 round trips (echo lookup in the id map, claim of the native id, the
    // recipient's access rules, one MULTI enqueue) and 29 commands, all but 4 run inside scripts.
    // The counted message is its conversation's second (the warm-up still waits: ingress only), so
    // the order change of issue 12 parks it inside the same MULTI (17 commands before that change).
    expect(counted.roundTrips).toBeLessThanOrEqual(5);
    expect(counted.commands).toBeLessThanOrEqual(32);
  });

  it("T-2.5.3 no message body, subject or display name appears in the log of a gateway run, at debug level, including failures", async () => {
    const lines: string[] = [];
    const log = createLogger({ level: "trace" }, new Writable({ write(c: Buffer, _e, cb) { lines.push(c.toString()); cb(); } }));
    const { betaPeer, alphaPeer, factories } = networks();
    gw = await startTestGateway({ factories, adapters: { alpha: {}, beta: {} }, mappings, log });
    const secrets = ["zebra-body-7f3a secret text", "quokka-subject-91c2", "Wombat Display 55e1"];
    const ok = MessageSchema.parse({ ...message(secrets[0]!), subject: { en: secrets[1]! }, displayName: secrets[2]! });
    await gw.gateway.accept(alice.network, [{ kind: "message", message: ok }]);
    await waitFor(() => betaPeer.messages.some((x) => x.id === ok.id), 15_000, "delivery");
    // A refused one (unknown recipient network) and a permanent delivery failure are logged too.
    const refused = MessageSchema.parse({ ...message("platypus-body-refused"), to: endpoint("nobody@nowhere.invalid", "gamma") });
    await gw.gateway.accept(alice.network, [{ kind: "message", message: refused }]);
    betaPeer.failWith = "permanent";
    const failing = message("echidna-body-failing");
    await gw.gateway.accept(alice.network, [{ kind: "message", message: failing }]);
    await waitFor(() => alphaPeer.statuses.some((s) => s.messageId === failing.id), 15_000, "failed status");
    const text = lines.join("");
    expect(lines.length).toBeGreaterThan(0);
    expect(text).toContain(ok.id); // the log does talk about these messages…
    for (const s of [...secrets, "platypus-body-refused", "echidna-body-failing"]) expect(text).not.toContain(s); // …never their content
  });

  it("T-2.2.2 id-map lookups stay O(1): with 10^5 entries a both-ways lookup is two keyed reads, and memory per entry is within budget", async () => {
    // 10^5, not the requirement's 10^6: seeding 10^6 entries on the 2-core CI box takes minutes and
    // about 0.5 GB of shared Redis. The lookups are single keyed reads (GET / HGET, never scans), so
    // their cost does not depend on the map's size: this test proves that by the commands Redis
    // runs (MONITOR), not by a clock a busy machine skews. Lookup times at 10^5 and 10^6 are
    // `npm run bench:growth`'s (docs/operations.md "Growth"); the p99 here is printed only.
    const prefix = testPrefix("idmap");
    const redis = new Redis("redis://127.0.0.1:6379");
    try {
      const ids = new RedisIdMap(redis, keyspace(prefix));
      const N = 100_000;
      const canon: CanonicalId[] = [];
      for (let base = 0; base < N; base += 2000) {
        const batch: Array<Promise<void>> = [];
        for (let i = base; i < Math.min(N, base + 2000); i++) {
          const c = newCanonicalId();
          canon.push(c);
          batch.push(ids.link(c, { network: "xmpp", kind: "stanza-id", id: `s-${i}-${c.slice(-12)}`, scope: "chat.example.org" }));
        }
        await Promise.all(batch);
      }
      const samples: number[] = [];
      for (let k = 0; k < 2000; k++) {
        const i = Math.floor(Math.random() * N);
        const c = canon[i]!;
        const t0 = process.hrtime.bigint();
        const back = await ids.canonicalFor({ network: "xmpp", kind: "stanza-id", id: `s-${i}-${c.slice(-12)}`, scope: "chat.example.org" });
        const native = await ids.nativeFor(c, "xmpp", "stanza-id");
        samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
        expect(back).toBe(c);
        expect(native?.id).toBe(`s-${i}-${c.slice(-12)}`);
      }
      // The commands of three both-ways lookups at full size: one GET and one HGET each, nothing else.
      counter = new CommandCounter(prefix);
      await counter.start();
      const before = (await counter.sentinel()) + 1;
      for (let k = 0; k < 3; k++) {
        const i = Math.floor((k * N) / 3);
        const c = canon[i]!;
        await ids.canonicalFor({ network: "xmpp", kind: "stanza-id", id: `s-${i}-${c.slice(-12)}`, scope: "chat.example.org" });
        await ids.nativeFor(c, "xmpp", "stanza-id");
      }
      const lookups = counter.since(before, await counter.sentinel());
      expect(lookups.names).toEqual(["GET", "HGET", "GET", "HGET", "GET", "HGET"]);
      samples.sort((a, b) => a - b);
      const p99 = samples[Math.floor(samples.length * 0.99)]!;
      let bytes = 0;
      for (let k = 0; k < 200; k++) {
        const i = Math.floor((k * N) / 200);
        const c = canon[i]!;
        const nk = keyspace(prefix).key("ids", "n", JSON.stringify(["xmpp", "stanza-id", "chat.example.org", `s-${i}-${c.slice(-12)}`]));
        bytes += Number(await redis.memory("USAGE", nk)) + Number(await redis.memory("USAGE", keyspace(prefix).key("ids", "c", c)));
      }
      const perEntry = bytes / 200;
      console.info(`T-2.2.2 id map with ${N} entries: p99 of a both-ways lookup ${p99.toFixed(2)} ms, ${perEntry.toFixed(0)} bytes per entry`);
      expect(perEntry).toBeLessThan(768); // budget: under 0.8 GB of Redis per 10^6 mappings (measured 2026-11: ~530 bytes)
    } finally {
      await deleteKeysUnder(redis, prefix);
      redis.disconnect();
    }
  });
});
