/**
 * order.ts: hand-overs in a busy conversation. One conversation across two worker processes, its
 * jobs parked at enqueue, with the park safety-net timer set beyond the test's budget: every
 * hand-over must come from a done waking the next head, never from the timer. (The narrow race
 * WAKE closes — a job fetched out of turn stalling between BEGIN and moveToDelayed while the
 * predecessor finishes — is driven by hand in order-protocol.test.ts; this guards the chain.)
 */
import { describe, expect, it } from "vitest";
import type { DeliveryJobSpec } from "../../../src/delivery/types.js";
import type { TestPayload } from "../../support/delivery-worker-process.js";
import { NET, SHARED_REDIS, uniquePrefix, waitFor } from "./helpers.js";
import { useProcessRig } from "./processes.js";

const prefix = uniquePrefix("race");
const PARK_MS = 30_000;
// Both processes take the conversation's jobs (every-process sharing): hand-overs between processes.
const service = { parkMs: PARK_MS, parkMaxMs: PARK_MS, lockDurationMs: 5000, stalledIntervalMs: 2000, queueSharing: "every-process" as const };
const rig = useProcessRig({ prefix, service, spawn: { cfg: { redisUrl: SHARED_REDIS, prefix, networks: [NET], concurrency: 16, service }, count: 2 } });

describe("park/promote race (DESIGN §3 order)", () => {
  it("T-4.3.1 one conversation of 1,000 messages over two processes never waits for the park timer", { timeout: 60_000 }, async () => {
    const N = 1000;
    const specs: DeliveryJobSpec[] = [];
    for (let i = 0; i < N; i++) {
      const payload: TestPayload = { i, conv: "one", t0: Date.now() };
      specs.push({ kind: "message", network: NET, key: `one.${i}`, conversation: "one", payload });
    }
    const t0 = Date.now();
    for (let s = 0; s < N; s += 50) await rig.producer.enqueue(specs.slice(s, s + 50));
    await waitFor(async () => (await rig.rec.llen(`${prefix}:t:recv:one`)) >= N, PARK_MS - 5000, `all ${N} delivered before any park timer fires`);
    const elapsed = Date.now() - t0;
    const got = (await rig.rec.lrange(`${prefix}:t:recv:one`, 0, -1)).map((e) => e.split("|").map(Number));
    console.log(`order_race messages=${N} elapsed_ms=${elapsed} processes=${new Set(got.map((g) => g[2])).size}`);
    expect(got.map((g) => g[0])).toEqual([...Array(N).keys()]);
    expect(new Set(got.map((g) => g[2])).size).toBe(2);
  });
});
