/**
 * Issue 10, stalls: when a peer answers again, what backed off against it is retried at once
 * (src/delivery/retry-now.ts), not at the next backoff step — and order within a conversation holds.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createDeliveryService, type BullDeliveryService } from "../../../src/delivery/index.js";
import type { DeliveryJobSpec } from "../../../src/delivery/types.js";
import { cleanup, FAST, NET, NET2, RecordingHandler, SHARED_REDIS, transient, uniquePrefix, waitFor } from "./helpers.js";

let svc: BullDeliveryService | undefined;
let prefix = "";
/** A backoff far longer than any test: only an early retry delivers within it. */
const SLOW_RETRY = { retry: { attempts: 5, baseMs: 120_000, capMs: 600_000 } };
async function service(): Promise<BullDeliveryService> {
  prefix = uniquePrefix("retrynow");
  svc = await createDeliveryService({ networks: [NET, NET2], prefix, redisUrl: SHARED_REDIS, ...FAST, ...SLOW_RETRY });
  return svc;
}
afterEach(async () => { await svc?.close(); svc = undefined; await cleanup(prefix); });
const msg = (network: typeof NET, key: string, conversation?: string): DeliveryJobSpec => ({ kind: "message", network, key, conversation, payload: { key } });
const delayed = async (s: BullDeliveryService, label: string) => (await s.counts())[label]?.delayed ?? 0;

describe("early retry when the peer answers again (issue 10)", () => {
  it("T-4.2.1 a job backed off against an unreachable peer goes at once, its successor after it, and another network's retry keeps its backoff", async () => {
    const s = await service();
    let peerDown = true;
    const h = new RecordingHandler((job) => { if (peerDown) throw transient(`${job.key}: peer unreachable`); });
    await s.startWorkers(h);
    await s.enqueue([msg(NET, "a", "c"), msg(NET, "b", "c"), msg(NET2, "other")]);
    // "a" failed once and backs off; "b" waits behind it; "other" (another network) backs off too.
    await waitFor(async () => (await delayed(s, "message-xmpp")) === 2 && (await delayed(s, "message-matrix")) === 1, 10_000, "both networks backing off");
    peerDown = false;
    const t0 = Date.now();
    expect(await s.retryNow(NET)).toBe(1); // "a" only: "b" made no attempt, it is parked behind "a"
    await waitFor(() => h.keys().length === 2, 10_000, "a and b delivered");
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(h.keys()).toEqual(["a", "b"]);
    expect(h.delivered[0]!.attempt).toBe(2);
    // The other network's job was not touched: it still waits out its 120 s backoff.
    expect(await delayed(s, "message-matrix")).toBe(1);
    expect(h.keys()).not.toContain("other");
  }, 30_000);

  it("T-4.2.1 nothing backed off: retryNow moves nothing", async () => {
    const s = await service();
    const h = new RecordingHandler();
    await s.startWorkers(h);
    await s.enqueue([msg(NET, "x", "c")]);
    await waitFor(() => h.keys().length === 1, 10_000, "x delivered");
    expect(await s.retryNow(NET)).toBe(0);
  }, 30_000);
});
