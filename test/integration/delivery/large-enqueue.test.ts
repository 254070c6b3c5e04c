/**
 * A large enqueue on a loaded machine (DESIGN §3 backpressure): the producer's command timeout
 * counts from the moment a command is sent, and Redis spends time on a MULTI in proportion to its
 * jobs, so one MULTI of 1,000 jobs failed with "Command timed out" at load 18–21 though Redis was
 * only slow. Stored as MULTIs of at most `maxJobsPerTransaction` jobs, a large enqueue succeeds;
 * a Redis that does not answer at all is still noticed within about one timeout.
 * The timeout is shrunk here (100 ms) so that one MULTI of 3,000 jobs outlasts it on any machine.
 */
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { createDeliveryService, type BullDeliveryService } from "../../../src/delivery/index.js";
import type { DeliveryJobSpec } from "../../../src/delivery/types.js";
import { isParleyError } from "../../../src/errors/index.js";
import { deleteKeysUnder } from "../../../src/store/keys.js";
import { RedisServer } from "../../support/redis-server.js";
import { FAST, NET, RecordingHandler, SHARED_REDIS, uniquePrefix, waitFor } from "./helpers.js";

let svc: BullDeliveryService | undefined;
let server: RedisServer | undefined;
let prefix: string | undefined;
afterEach(async () => {
  server?.resume();
  await svc?.close(); svc = undefined;
  await server?.destroy(); server = undefined;
  if (prefix) { const r = new Redis(SHARED_REDIS); await deleteKeysUnder(r, prefix); r.disconnect(); prefix = undefined; }
});

const N = 3_000;
const specs = (tag: string): DeliveryJobSpec[] =>
  Array.from({ length: N }, (_, i) => ({ kind: "message", network: NET, key: `${tag}.${i}`, conversation: `c${i % 100}`, payload: { i } }));

describe("a large enqueue and the producer's command timeout", () => {
  it("3,000 jobs in one enqueue are stored (MULTIs of 20) within a 100 ms command timeout, in order per conversation", { timeout: 60_000 }, async () => {
    prefix = uniquePrefix("bigenq");
    svc = await createDeliveryService({ networks: [NET], prefix, redisUrl: SHARED_REDIS, commandTimeoutMs: 100, maxJobsPerTransaction: 20, ...FAST });
    const t0 = Date.now();
    await svc.enqueue(specs("big"));
    console.log(`large_enqueue jobs=${N} ms=${Date.now() - t0}`);
    const stored = (await svc.counts())["message-xmpp"]!;
    expect((stored.waiting ?? 0) + (stored.delayed ?? 0)).toBe(N);
    const h = new RecordingHandler();
    await svc.startWorkers(h);
    await waitFor(() => h.keys().length === N, 45_000, "every job delivered");
    const c7 = h.keys().filter((k) => Number(k.split(".")[1]) % 100 === 7);
    expect(c7).toEqual(Array.from({ length: N / 100 }, (_, j) => `big.${7 + j * 100}`));
  });

  it("a Redis that stops answering (SIGSTOP) still fails a 3,000-job enqueue within about one command timeout (500 ms)", { timeout: 30_000 }, async () => {
    server = await RedisServer.start();
    svc = await createDeliveryService({ networks: [NET], prefix: uniquePrefix("hung"), redisUrl: server.url, ...FAST });
    server.pause();
    const t0 = Date.now();
    const error = await svc.enqueue(specs("hung")).then(() => undefined, (e: unknown) => e);
    const ms = Date.now() - t0;
    console.log(`redis_hung large_enqueue_reject_ms=${ms}`);
    expect(isParleyError(error, "PARLEY_UNAVAILABLE"), String(error)).toBe(true);
    expect(String((error as Error).message)).toMatch(/timed out/);
    expect(ms).toBeLessThan(1_500);
  });
});
