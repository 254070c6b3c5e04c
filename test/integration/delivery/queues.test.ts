import { afterEach, describe, expect, it } from "vitest";
import { createDeliveryService, type BullDeliveryService } from "../../../src/delivery/index.js";
import type { DeliveryJob, DeliveryJobSpec } from "../../../src/delivery/types.js";
import { cleanup, FAST, NET, NET2, RecordingHandler, SHARED_REDIS, uniquePrefix, waitFor } from "./helpers.js";

let svc: BullDeliveryService | undefined;
let prefix = "";
async function service(): Promise<BullDeliveryService> {
  prefix = uniquePrefix("queues");
  svc = await createDeliveryService({ networks: [NET, NET2], prefix, redisUrl: SHARED_REDIS, ...FAST });
  return svc;
}
afterEach(async () => { await svc?.close(); svc = undefined; await cleanup(prefix); });

describe("kill switch and coalescing (RFC 2779 2.4.4, 5.2.2)", () => {
  it("T-2.4.4 pause keeps a network's jobs (other networks flow), resume drains them", async () => {
    const s = await service();
    const h = new RecordingHandler();
    await s.startWorkers(h);
    await s.pause(NET);
    const specs: DeliveryJobSpec[] = [];
    for (let i = 0; i < 10; i++) {
      specs.push({ kind: "message", network: NET, key: `x.${i}`, conversation: "c", payload: i });
      specs.push({ kind: "message", network: NET2, key: `m.${i}`, conversation: "c", payload: i });
    }
    await s.enqueue(specs);
    await waitFor(() => h.delivered.length === 10, 5000, "the other network's jobs");
    expect(h.keys().every((k) => k.startsWith("m."))).toBe(true);
    const counts = await s.counts();
    // Kept: the conversation's head waits, its successors are parked until their turn (order.ts).
    expect(counts["message-xmpp"]!.waiting).toBe(1);
    expect(counts["message-xmpp"]!.delayed).toBe(9);
    await s.resume(NET);
    await waitFor(() => h.delivered.length === 20, 5000, "the paused network's jobs after resume");
    expect(h.delivered.filter((d) => d.key.startsWith("x.")).map((d) => d.key)).toEqual([...Array(10).keys()].map((i) => `x.${i}`));
  });

  it("T-5.2.2 coalesce: a waiting job absorbs newer ones; a running one is followed by exactly one with the newest state", async () => {
    const s = await service();
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => { release = r; });
    const seen: unknown[] = [];
    const h = new RecordingHandler(async (job: DeliveryJob) => {
      seen.push(job.payload);
      if (job.payload === 1) await gate;
    });
    const presence = (v: number): DeliveryJobSpec => ({ kind: "presence", network: NET, key: "alice>bob", coalesce: true, payload: v });
    // While waiting (paused queue), later states are dropped: the first one stays.
    await s.pause(NET);
    await s.enqueue([presence(1)]);
    await s.enqueue([presence(2)]);
    expect((await s.counts())["presence-xmpp"]!.waiting).toBe(1);
    await s.startWorkers(h);
    await s.resume(NET);
    await waitFor(() => seen.length === 1, 5000, "the first job running");
    // While running, newer states are kept (only the newest) and run after it.
    await s.enqueue([presence(3)]);
    await s.enqueue([presence(4)]);
    await s.enqueue([presence(5)]);
    release();
    await waitFor(() => seen.length === 2, 5000, "the follow-up job");
    await waitFor(async () => { const c = (await s.counts())["presence-xmpp"]!; return (c.active ?? 0) + (c.waiting ?? 0) + (c.delayed ?? 0) === 0; }, 5000, "an empty queue");
    expect(seen).toEqual([1, 5]);
    // After it ran, a new state goes out again.
    await s.enqueue([presence(6)]);
    await waitFor(() => seen.length === 3, 5000, "a new state after the queue drained");
    expect(seen).toEqual([1, 5, 6]);
  });
});
