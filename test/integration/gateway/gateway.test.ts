/**
 * The whole core on the real local Redis, with test-double networks: accept → route → BullMQ →
 * worker → adapter, and failure → status for the sender. Issue 2, Done when (c) and (d).
 */
import { afterEach, describe, expect, it } from "vitest";
import { Writable } from "node:stream";
import { createLogger } from "../../../src/log/logger.js";
import { startTestGateway, type TestGateway } from "../../support/gateway.js";
import { RedisServer } from "../../support/redis-server.js";
import { until } from "../../support/until.js";
import { newCanonicalId } from "../../../src/model/ids.js";
import { alice, aliceToBob, bob, twoNetworkMappings, twoNetworks } from "../../support/two-networks.js";

const mappings = twoNetworkMappings;
const message = aliceToBob;
const networks = twoNetworks;

let gw: TestGateway | undefined;
afterEach(async () => { await gw?.destroy(); gw = undefined; });

describe("gateway on real Redis", () => {
  it("T-2.1.3 carries a message from one network to another through the durable queue", async () => {
    const { betaPeer, factories } = networks();
    gw = await startTestGateway({ factories, adapters: { alpha: {}, beta: {} }, mappings });
    const m = message("hello through BullMQ");
    const [result] = await gw.gateway.accept(alice.network, [{ kind: "message", message: m }]);
    expect(result).toEqual({ status: "accepted", messageId: m.id });
    const got = await until("delivery", () => betaPeer.messages.find((x) => x.id === m.id));
    expect(got.hops).toBe(m.hops - 1);
  });

  it("T-4.2.1 T-5.4.1 a permanent failure reaches the sender's network as a failed status, within the retry budget", async () => {
    const { alphaPeer, betaPeer, factories } = networks();
    betaPeer.failWith = "permanent";
    gw = await startTestGateway({ factories, adapters: { alpha: {}, beta: { failWith: "permanent" } }, mappings });
    const m = message("to nobody");
    const started = Date.now();
    await gw.gateway.accept(alice.network, [{ kind: "message", message: m }]);
    const status = await until("failed status", () => alphaPeer.statuses.find((s) => s.messageId === m.id));
    expect(status).toMatchObject({ state: "failed", reason: "recipient-unknown", sender: alice, recipient: bob });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(betaPeer.messages).toHaveLength(0);
    const failed = await gw.delivery.listFailed();
    expect(failed.some((f) => f.key.includes(m.id))).toBe(true);
  });

  it("T-4.2.1 a transient failure is retried and delivered once the destination recovers", async () => {
    const { betaPeer, alphaPeer, factories } = networks();
    gw = await startTestGateway({ factories, adapters: { alpha: {}, beta: { failWith: "transient" } }, mappings, delivery: { attempts: 20, backoffBaseMs: 20, backoffCapMs: 100 } });
    const m = message("eventually");
    await gw.gateway.accept(alice.network, [{ kind: "message", message: m }]);
    await until("three failed attempts", () => (betaPeer.attempts >= 3 ? true : undefined));
    expect(betaPeer.messages).toHaveLength(0);
    betaPeer.failWith = undefined;
    await until("delivery after recovery", () => betaPeer.messages.find((x) => x.id === m.id));
    expect(alphaPeer.statuses).toHaveLength(0);
  });

  it("with Redis stopped, accept fails fast with PARLEY_UNAVAILABLE and nothing is acknowledged; it recovers by itself", async () => {
    const redis = await RedisServer.start();
    try {
      const { betaPeer, factories } = networks();
      gw = await startTestGateway({ factories, adapters: { alpha: {}, beta: {} }, mappings, redisUrl: redis.url });
      await redis.stop();
      const started = Date.now();
      await expect(gw.gateway.accept(alice.network, [{ kind: "message", message: message("while down") }])).rejects.toMatchObject({ code: "PARLEY_UNAVAILABLE" });
      expect(Date.now() - started).toBeLessThan(1_500);
      await redis.start();
      const m = message("after the outage");
      const result = await waitForAsync(() => gw!.gateway.accept(alice.network, [{ kind: "message", message: m }]));
      expect(result[0]?.status).toBe("accepted");
      await until("delivery after outage", () => betaPeer.messages.find((x) => x.id === m.id), 30_000);
      expect(betaPeer.messages.some((x) => x.parts.some((p) => p.role === "text" && p.body === "while down"))).toBe(false);
    } finally {
      await gw?.stop();
      gw = undefined;
      await redis.destroy();
    }
  });

  it("a process whose adapter is not ready takes none of that network's jobs and spends no attempts; it delivers once ready", async () => {
    const { alphaPeer, betaPeer, factories } = networks();
    betaPeer.notReady = true;
    gw = await startTestGateway({ factories, adapters: { alpha: {}, beta: {} }, mappings, delivery: { attempts: 2 } });
    const m = message("waits for the link");
    await gw.gateway.accept(alice.network, [{ kind: "message", message: m }]);
    // The workers run: a message accepted afterwards for the ready network is delivered, while
    // beta's job stays waiting in its queue, never taken.
    const reply = { ...message("meanwhile to alpha"), id: newCanonicalId(), from: bob, to: alice };
    await gw.gateway.accept(bob.network, [{ kind: "message", message: reply }]);
    await until("delivery to the ready network", () => alphaPeer.messages.find((x) => x.id === reply.id));
    const beta = Object.entries(await gw.delivery.counts()).filter(([queue]) => queue.includes("beta")).map(([, c]) => c);
    expect(beta.reduce((n, c) => n + (c.waiting ?? 0), 0)).toBe(1);
    expect(betaPeer.attempts).toBe(0);
    expect(await gw.delivery.listFailed()).toEqual([]);
    betaPeer.notReady = false;
    await until("delivery once ready", () => betaPeer.messages.find((x) => x.id === m.id), 10_000);
    expect(betaPeer.attempts).toBe(1);
  });

  it("serves health openly and metrics and the admin API only with the token", async () => {
    const { factories } = networks();
    gw = await startTestGateway({ factories, adapters: { alpha: {}, beta: {} }, mappings, admin: { token: "test-admin-token-123456" } });
    const { host, port } = gw.adminAddress()!;
    const base = `http://${host}:${port}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ready: true });
    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    expect((await fetch(`${base}/metrics`, { headers: { authorization: "Bearer wrong-token-wrong-token" } })).status).toBe(401);
    const metrics = await fetch(`${base}/metrics`, { headers: { authorization: "Bearer test-admin-token-123456" } });
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    expect(text).toMatch(/parley_messages_accepted_total/);
    expect(text).toMatch(/parley_adapter_ready\{network="beta"\} 1/);
    const dlq = await fetch(`${base}/dlq`, { headers: { authorization: "Bearer test-admin-token-123456" } });
    expect(await dlq.json()).toEqual([]);
  });

  it("logs PARLEY_REDIS_NOT_DURABLE at start on a Redis that keeps nothing on disk", async () => {
    const lines: string[] = [];
    const log = createLogger({ level: "warn" }, new Writable({ write(c: Buffer, _e, cb) { lines.push(c.toString()); cb(); } }));
    const { factories } = networks();
    gw = await startTestGateway({ factories, adapters: { alpha: {}, beta: {} }, mappings, log });
    expect(lines.some((l) => l.includes("PARLEY_REDIS_NOT_DURABLE"))).toBe(true);
  });
});

/** Retry an async call until it resolves (Redis reconnecting), bounded. */
async function waitForAsync<T>(call: () => Promise<T>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await call();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
