/**
 * Hand-on (src/delivery/order.ts): an adapter that has *written* a message on an ordered
 * connection returns its pending confirmation, and the conversation's next message goes out at
 * once. A failed confirmation puts the message back at the head of its line; every later message
 * written on that connection fails with it, none is reported sent, and they go out again in order
 * on the next connection — never a later one first.
 */
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { BehindUnconfirmed, type PendingConfirm } from "../../../src/adapter/contract.js";
import { createDeliveryMetrics, createDeliveryService, type BullDeliveryService } from "../../../src/delivery/index.js";
import type { DeliveryHandler, DeliveryJob, DeliveryJobSpec } from "../../../src/delivery/types.js";
import { cleanup, FAST, NET, SHARED_REDIS, transient, uniquePrefix, waitFor } from "./helpers.js";

let svc: BullDeliveryService | undefined;
let prefix = "";
afterEach(async () => { await svc?.close(); svc = undefined; await cleanup(prefix); });

interface Write { readonly key: string; readonly gen: number; resolve(): void; reject(e: Error): void }

/** A stand-in for the XMPP component link: each connection is a generation; writes are confirmed later. */
class FakeConnection implements DeliveryHandler {
  gen = 1;
  readonly writes: Write[] = [];
  refusedAfter = 0;
  async deliver(job: DeliveryJob): Promise<PendingConfirm> {
    const channel = `fake:${this.gen}`;
    if (!job.handOn) throw new Error("an ordered job must be offered hand-on");
    // The contract: earlier unconfirmed messages went out on `after`; write only on that connection.
    if (job.handOn.after !== undefined && job.handOn.after !== channel) { this.refusedAfter++; throw transient("earlier messages went out on a connection that is gone"); }
    let w!: Write;
    const confirmed = new Promise<void>((resolve, reject) => { w = { key: job.key, gen: this.gen, resolve, reject }; });
    this.writes.push(w);
    return { channel, confirmed };
  }
  async onFinalFailure(): Promise<void> {}
  on(gen: number): string[] { return this.writes.filter((w) => w.gen === gen).map((w) => w.key); }
}

/** As an XMPP link does (adapters/xmpp/outbound.ts): a message behind unconfirmed ones of a gone connection is not written, it waits (BehindUnconfirmed); connection 2 confirms at once. */
class LinkAfterCrash extends FakeConnection {
  override async deliver(job: DeliveryJob): Promise<PendingConfirm> {
    if (job.handOn?.after !== undefined && job.handOn.after !== `fake:${this.gen}`) {
      this.refusedAfter++;
      throw new BehindUnconfirmed("earlier messages of this conversation went out on a connection that is gone");
    }
    const pending = await super.deliver(job);
    if (this.gen === 2) this.writes.at(-1)!.resolve();
    return pending;
  }
}

const msg = (key: string): DeliveryJobSpec => ({ kind: "message", network: NET, key, conversation: "c", payload: { key } });
const completed = async (r: Registry) => Number(/parley_delivery_jobs_completed_total\{queue="message-xmpp"\} (\d+)/.exec(await r.metrics())?.[1] ?? 0);

async function service(registry: Registry, timings: { parkMs?: number; lockDurationMs?: number } = {}): Promise<BullDeliveryService> {
  prefix = uniquePrefix("handon");
  svc = await createDeliveryService({ networks: [NET], prefix, redisUrl: SHARED_REDIS, ...FAST, ...timings, concurrency: 8, retry: { attempts: 50, baseMs: 20, capMs: 100 }, metrics: createDeliveryMetrics(registry) });
  return svc;
}

describe("hand-on: the turn passes on once a message is written, confirmation follows", () => {
  it("T-4.3.1 writes a conversation's messages back to back, in order, and reports none sent before its confirmation", async () => {
    const registry = new Registry();
    const s = await service(registry);
    const link = new FakeConnection();
    await s.startWorkers(link);
    await s.enqueue(["m.0", "m.1", "m.2", "m.3", "m.4"].map(msg));
    // Every message is written while no confirmation has come: the turn passed on at each write.
    await waitFor(() => link.writes.length === 5, 10_000, "five writes without a confirmation");
    expect(link.on(1)).toEqual(["m.0", "m.1", "m.2", "m.3", "m.4"]);
    expect(await completed(registry)).toBe(0);
    for (const w of link.writes) w.resolve();
    await waitFor(async () => (await completed(registry)) === 5, 10_000, "five completed after their confirmations");
  });

  it("T-4.3.1 a failed confirmation fails every later message written on that connection; none is reported sent; all go again in order", async () => {
    const registry = new Registry();
    const s = await service(registry);
    const link = new FakeConnection();
    await s.startWorkers(link);
    await s.enqueue(["m.0", "m.1", "m.2", "m.3", "m.4"].map(msg));
    await waitFor(() => link.writes.length === 5, 10_000, "five writes on connection 1");
    link.writes[0]!.resolve(); // m.0 was confirmed before the connection died
    await waitFor(async () => (await completed(registry)) === 1, 10_000, "m.0 completed");
    // Connection 1 dies. A message of the same conversation arriving before its confirmations
    // fail (m.1–m.4 still handed on, so m.5 is the conversation's turn) must not go out first.
    link.gen = 2;
    await s.enqueue([msg("m.5")]);
    await waitFor(() => link.refusedAfter > 0 || link.on(2).length > 0, 10_000, "m.5 tried");
    for (const w of link.writes.slice(1)) w.reject(new Error("connection 1 is gone"));
    await waitFor(() => link.on(2).length === 5, 20_000, "the four failed and the new one written on connection 2");
    expect(link.on(2)).toEqual(["m.1", "m.2", "m.3", "m.4", "m.5"]);
    expect(await completed(registry)).toBe(1); // nothing unconfirmed reported sent
    for (const w of link.writes.filter((x) => x.gen === 2)) w.resolve();
    await waitFor(async () => (await completed(registry)) === 6, 10_000, "all six completed");
    expect(link.writes.filter((w) => w.key === "m.0")).toHaveLength(1); // the confirmed one is not sent again
  });

  it("issue 10: a message behind unconfirmed ones of a gone connection goes out within a stalled-check interval of their return, not after a lock's length", async () => {
    const registry = new Registry();
    // Long parks and locks: before, the waiting message looked again only after min(parkMs, lock + stalled check) = 10 s.
    const s = await service(registry, { parkMs: 10_000, lockDurationMs: 10_000 });
    const link = new LinkAfterCrash();
    await s.startWorkers(link);
    await s.enqueue(["m.0", "m.1"].map(msg));
    await waitFor(() => link.writes.length === 2, 10_000, "two writes on connection 1");
    link.gen = 2; // connection 1 is gone; its two messages are unconfirmed
    await s.enqueue([msg("m.2")]);
    await waitFor(() => link.refusedAfter > 0, 10_000, "m.2 waiting behind them");
    const back = Date.now();
    for (const w of link.writes) w.reject(new Error("connection 1 is gone")); // they come back (a dead process's: after the stall check)
    await waitFor(() => link.on(2).length === 3, 20_000, "all three on connection 2");
    console.log(`behind-unconfirmed: m.2 written ${Date.now() - back} ms after its predecessors came back`);
    expect(Date.now() - back).toBeLessThan(4_000);
    expect(link.on(2)).toEqual(["m.0", "m.1", "m.2"]);
    await waitFor(async () => (await completed(registry)) === 3, 10_000, "all three completed");
  });
});
