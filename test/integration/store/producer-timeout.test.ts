/**
 * The producer connection's command timeout (src/store/redis.ts) measures Redis, not this
 * process's event loop: a loop held up past the timeout (a loaded machine: the process not run,
 * a long synchronous task) must not fail commands whose replies arrived meanwhile — ioredis' own
 * commandTimeout did, and bench:delivery failed with "Command timed out" on a healthy Redis at
 * load ~20. A Redis that does not answer still fails a command after the timeout.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createProducerClient, waitForReady, type RedisClient } from "../../../src/store/redis.js";
import { RedisServer } from "../../support/redis-server.js";

const SHARED = process.env.PARLEY_TEST_REDIS ?? "redis://127.0.0.1:6379";
let client: RedisClient | undefined;
let server: RedisServer | undefined;
afterEach(async () => {
  server?.resume();
  client?.disconnect(); client = undefined;
  await server?.destroy(); server = undefined;
});

/** Keep the event loop busy, as a starved or busy process does. */
function block(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) { /* busy */ }
}

async function settle(p: Promise<unknown>): Promise<{ ok: boolean; error?: string; ms: number }> {
  const t0 = Date.now();
  try { await p; return { ok: true, ms: Date.now() - t0 }; } catch (e) { return { ok: false, error: (e as Error).message, ms: Date.now() - t0 }; }
}

describe("the producer's command timeout", () => {
  it("does not fail commands Redis answered while the event loop was held up past the timeout", async () => {
    client = createProducerClient({ url: SHARED, commandTimeoutMs: 200, connectionName: "parley-test-lag" });
    await waitForReady(client);
    const outcomes = [];
    for (let i = 0; i < 3; i++) {
      const ping = settle(client.ping());
      const multi = settle(client.multi().set(`ptest-lag-${i}`, "x", "PX", 10_000).get(`ptest-lag-${i}`).exec());
      block(1_500); // Redis answers within this on any machine; the timer (200 ms) expires meanwhile
      outcomes.push(await ping, await multi);
    }
    expect(outcomes.filter((o) => !o.ok), JSON.stringify(outcomes)).toEqual([]);
  });

  it("still fails a command to a Redis that stops answering (SIGSTOP) after about the timeout", { timeout: 20_000 }, async () => {
    server = await RedisServer.start();
    client = createProducerClient({ url: server.url, commandTimeoutMs: 200, connectionName: "parley-test-hung" });
    await waitForReady(client);
    server.pause();
    const r = await settle(client.ping());
    expect(r.ok).toBe(false);
    expect(r.error).toBe("Command timed out");
    expect(r.ms).toBeGreaterThanOrEqual(190);
    expect(r.ms).toBeLessThan(1_000);
  });
});
