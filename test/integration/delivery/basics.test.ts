import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { createDeliveryMetrics, createDeliveryService, type BullDeliveryService } from "../../../src/delivery/index.js";
import type { DeliveryJobSpec } from "../../../src/delivery/types.js";
import { isParleyError } from "../../../src/errors/index.js";
import { cleanup, FAST, NET, NET2, permanent, RecordingHandler, SHARED_REDIS, transient, uniquePrefix, waitFor } from "./helpers.js";

let svc: BullDeliveryService | undefined;
let prefix = "";
async function service(extra: Record<string, unknown> = {}): Promise<BullDeliveryService> {
  prefix = uniquePrefix("basic");
  svc = await createDeliveryService({ networks: [NET, NET2], prefix, redisUrl: SHARED_REDIS, ...FAST, ...extra });
  return svc;
}
afterEach(async () => { await svc?.close(); svc = undefined; await cleanup(prefix); });

const msg = (key: string, conversation?: string, network = NET): DeliveryJobSpec => ({ kind: "message", network, key, conversation, payload: { key } });

describe("delivery service basics (DESIGN §3)", () => {
  it("T-5.4.2 one job per key: enqueueing a key twice, or again after it was sent, sends once", async () => {
    const s = await service();
    const h = new RecordingHandler();
    await s.startWorkers(h);
    await s.enqueue([msg("a:1.x", "c1"), msg("a:1.x", "c1"), msg("b.y")]);
    await waitFor(() => h.delivered.length >= 2, 5000, "two deliveries");
    await s.enqueue([msg("a:1.x", "c1"), msg("b.y")]);
    await s.enqueue([msg("c.z", "c1")]);
    await waitFor(() => h.keys().includes("c.z"), 5000, "the third key");
    expect(h.keys().sort()).toEqual(["a:1.x", "b.y", "c.z"]);
    await waitFor(async () => (await s.counts())["message-xmpp"]!.active === 0, 2000, "the last job completed");
    expect((await s.counts())["message-xmpp"]).toMatchObject({ active: 0, waiting: 0, failed: 0 });
  });

  it("T-4.3.1 keeps per-conversation order across transient failures, without holding back other conversations", async () => {
    const s = await service({ concurrency: 8, retry: { attempts: 100, baseMs: 20, capMs: 100 } });
    // slow.0 keeps failing until every message of "fast" is delivered: if slow's retry held back
    // the other conversation, this would never finish.
    const fastDone = () => h.delivered.filter((d) => d.conversation === "fast").length === 20;
    const h = new RecordingHandler((job) => { if (job.key === "slow.0" && !fastDone()) throw transient(); });
    await s.startWorkers(h);
    const specs: DeliveryJobSpec[] = [];
    for (let i = 0; i < 20; i++) specs.push(msg(`slow.${i}`, "slow"), msg(`fast.${i}`, "fast"));
    await s.enqueue(specs);
    await waitFor(() => h.delivered.length >= 40, 10_000, "40 deliveries");
    const order = (c: string) => h.delivered.filter((d) => d.conversation === c).map((d) => Number(d.key.split(".")[1]));
    expect(order("slow")).toEqual([...Array(20).keys()]);
    expect(order("fast")).toEqual([...Array(20).keys()]);
    expect(h.delivered.find((d) => d.key === "slow.0")!.attempt).toBeGreaterThan(1);
  });

  it("T-2.4.4 refuses an unknown network and mixing coalesce with a conversation", async () => {
    const s = await service();
    await expect(s.enqueue([{ kind: "message", network: "email" as never, key: "k", payload: 1 }])).rejects.toSatisfy((e) => isParleyError(e, "PARLEY_INTERNAL"));
    await expect(s.enqueue([{ kind: "presence", network: NET, key: "k", conversation: "c", coalesce: true, payload: 1 }])).rejects.toThrow(/unordered/);
  });

  it("exports metrics on the registry it is given: completed, retried, failed, latency, queue depth", async () => {
    const registry = new Registry();
    const metrics = createDeliveryMetrics(registry);
    const s = await service({ metrics });
    let once = true;
    const h = new RecordingHandler((job) => {
      if (job.key === "m.1" && once) { once = false; throw transient(); }
      if (job.key === "m.2") throw permanent();
    });
    await s.startWorkers(h);
    await s.enqueue([msg("m.0"), msg("m.1"), msg("m.2")]);
    await waitFor(() => h.delivered.length === 2 && h.finalFailures.length === 1, 5000, "two deliveries and a failure");
    // The handler records a delivery before the runner writes its marker and counts it: wait until
    // no job is still active (BullMQ moves a job on only after the processor returned).
    await waitFor(async () => { const c = (await s.counts())["message-xmpp"]!; return c.failed === 1 && c.active === 0; }, 2000, "the failed set, nothing active");
    const text = await registry.metrics();
    expect(text).toMatch(/parley_delivery_jobs_completed_total\{queue="message-xmpp"\} 2/);
    expect(text).toMatch(/parley_delivery_jobs_retried_total\{queue="message-xmpp"\} 1/);
    expect(text).toMatch(/parley_delivery_jobs_failed_total\{queue="message-xmpp"\} 1/);
    expect(text).toMatch(/parley_delivery_latency_seconds_count\{queue="message-xmpp"\} 2/);
    expect(text).toMatch(/parley_delivery_queue_depth\{queue="message-xmpp",state="failed"\} 1/);
  });

  it("close() is graceful: stops taking jobs, lets the running one finish, leaves nothing active", async () => {
    const s = await service({ concurrency: 1 });
    let started = false, finished = false;
    const h = new RecordingHandler(async (job) => {
      if (job.key === "g.0") { started = true; await new Promise((r) => setTimeout(r, 300)); finished = true; }
    });
    await s.startWorkers(h);
    await s.enqueue([msg("g.0", "c"), msg("g.1", "c")]);
    await waitFor(() => started, 5000, "the first job running");
    await s.close();
    expect(finished).toBe(true);
    expect(h.keys()).toEqual(["g.0"]);
    const other = await createDeliveryService({ networks: [NET, NET2], prefix, redisUrl: SHARED_REDIS, ...FAST });
    try {
      expect((await other.counts())["message-xmpp"]).toMatchObject({ active: 0, waiting: 1 });
      await expect(s.enqueue([msg("g.2")])).rejects.toSatisfy((e) => isParleyError(e, "PARLEY_UNAVAILABLE"));
    } finally { await other.close(); }
  });

  it("stopWorkers() drains the workers but still stores: a link still up at shutdown hands over what it read (issue 10)", async () => {
    const s = await service({ concurrency: 1 });
    const h = new RecordingHandler();
    await s.startWorkers(h);
    await s.stopWorkers();
    await s.enqueue([msg("late.0", "c")]);
    expect(h.keys()).toEqual([]);
    await s.close();
    const other = await createDeliveryService({ networks: [NET, NET2], prefix, redisUrl: SHARED_REDIS, ...FAST });
    try {
      expect((await other.counts())["message-xmpp"]).toMatchObject({ waiting: 1 });
    } finally { await other.close(); }
  });
});
