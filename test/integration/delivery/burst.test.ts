/**
 * Issue 11, class 9: a large burst from one source (one conversation, e.g. a 1000-event Matrix
 * transaction) must not starve other conversations. Before the fix every job of the burst went to
 * the wait list; out-of-turn jobs were picked, parked and woken again and again, and a message of
 * another conversation enqueued behind them waited for that churn. Now the successors of a
 * conversation in one batch are parked at enqueue and promoted one by one as their turn comes.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createDeliveryService, type BullDeliveryService } from "../../../src/delivery/index.js";
import type { DeliveryJobSpec } from "../../../src/delivery/types.js";
import { cleanup, FAST, NET, RecordingHandler, SHARED_REDIS, uniquePrefix, waitFor } from "./helpers.js";

let svc: BullDeliveryService | undefined;
let prefix = "";
afterEach(async () => { await svc?.close(); svc = undefined; await cleanup(prefix); });

const msg = (key: string, conversation: string): DeliveryJobSpec => ({ kind: "message", network: NET, key, conversation, payload: { key } });

describe("T-4.3.1 a burst in one conversation", () => {
  it("is delivered in order, and a message of another conversation enqueued behind it is not held back", async () => {
    prefix = uniquePrefix("burst");
    svc = await createDeliveryService({ networks: [NET], prefix, redisUrl: SHARED_REDIS, ...FAST, concurrency: 8 });
    const N = 300;
    const h = new RecordingHandler(async () => { await new Promise((r) => setTimeout(r, 20)); }); // a send and its confirmation take a little time (XMPP: a ping round trip)
    await svc.startWorkers(h);
    const t0 = Date.now();
    await svc.enqueue(Array.from({ length: N }, (_, i) => msg(`burst.${i}`, "big")));
    await svc.enqueue([msg("other.0", "small")]);
    await waitFor(() => h.delivered.some((d) => d.key === "other.0"), 60_000, "the other conversation's message");
    const otherMs = Date.now() - t0;
    const burstBefore = h.delivered.filter((d) => d.conversation === "big").length;
    await waitFor(() => h.delivered.filter((d) => d.conversation === "big").length === N, 120_000, "the whole burst");
    const burstMs = Date.now() - t0;
    console.log(`burst of ${N}: all delivered in ${burstMs} ms (${Math.round(N / (burstMs / 1000))}/s); the other conversation's message after ${otherMs} ms, behind ${burstBefore} of the burst`);
    expect(h.delivered.filter((d) => d.conversation === "big").map((d) => Number(d.key.split(".")[1]))).toEqual([...Array(N).keys()]);
    expect(burstBefore).toBeLessThan(N / 10);
  }, 180_000);
});
