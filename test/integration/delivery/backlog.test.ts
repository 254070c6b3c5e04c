/**
 * Back-pressure (issue 10): when a conversation's destination is slow or down, its backlog stops
 * at `maxConversationBacklog` — further enqueues for it are refused with PARLEY_UNAVAILABLE (the
 * source's "try later") — while other conversations go on; once it drains, it takes messages again.
 */
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { createDeliveryMetrics, createDeliveryService, type BullDeliveryService } from "../../../src/delivery/index.js";
import type { DeliveryJobSpec } from "../../../src/delivery/types.js";
import { isParleyError } from "../../../src/errors/index.js";
import { cleanup, FAST, NET, RecordingHandler, SHARED_REDIS, transient, uniquePrefix, waitFor } from "./helpers.js";

let svc: BullDeliveryService | undefined;
let prefix = "";
afterEach(async () => { await svc?.close(); svc = undefined; await cleanup(prefix); });

const msg = (key: string, conversation: string): DeliveryJobSpec => ({ kind: "message", network: NET, key, conversation, payload: { key } });
const unavailable = (e: unknown) => isParleyError(e, "PARLEY_UNAVAILABLE") && /try later/.test((e as Error).message);

describe("conversation backlog bound (back-pressure)", () => {
  it("refuses a full conversation's new messages until it drains; other conversations are not held back", async () => {
    prefix = uniquePrefix("backlog");
    const registry = new Registry();
    const metrics = createDeliveryMetrics(registry);
    svc = await createDeliveryService({ networks: [NET], prefix, redisUrl: SHARED_REDIS, ...FAST, retry: { attempts: 1000, baseMs: 20, capMs: 50 }, maxConversationBacklog: 5, metrics });
    let destinationUp = false;
    const h = new RecordingHandler((job) => { if (job.conversation === "slow" && !destinationUp) throw transient("destination down"); });
    await svc.startWorkers(h);

    // Five fill the line (one call each, as stanzas arrive); the sixth and later are refused.
    for (let i = 0; i < 5; i++) await svc.enqueue([msg(`slow.${i}`, "slow")]);
    await expect(svc.enqueue([msg("slow.5", "slow")])).rejects.toSatisfy(unavailable);
    await expect(svc.enqueue([msg("fast.x", "fast"), msg("slow.6", "slow")])).rejects.toSatisfy(unavailable);
    // A caller in the same batch as a refused one is stored: refusal is per caller.
    const [refused, stored] = await Promise.allSettled([svc.enqueue([msg("slow.7", "slow")]), svc.enqueue([msg("fast.0", "fast")])]);
    expect(refused.status).toBe("rejected");
    expect(stored.status).toBe("fulfilled");
    await waitFor(() => h.keys().includes("fast.0"), 5000, "the other conversation delivered");
    expect(await registry.getSingleMetricAsString("parley_delivery_backlog_refused_total")).toMatch(/queue="message-xmpp"} 3/);

    destinationUp = true;
    await waitFor(() => h.delivered.filter((d) => d.conversation === "slow").length === 5, 10_000, "the backlog drained");
    await svc.enqueue([msg("slow.8", "slow")]);
    await waitFor(() => h.keys().includes("slow.8"), 5000, "a message after the drain");
    expect(h.delivered.filter((d) => d.conversation === "slow").map((d) => d.key)).toEqual(["slow.0", "slow.1", "slow.2", "slow.3", "slow.4", "slow.8"]);
  });
});
