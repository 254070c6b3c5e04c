/**
 * RFC 2779 3.4.1: in quiet times a presence notification travels about as fast as an instant
 * message on the same path. Both go through the real gateway (accept pipeline, BullMQ, workers)
 * from one test-double network to another, timed from the adapter's hand-off to the delivery.
 */
import { afterEach, describe, expect, it } from "vitest";
import { endpoint } from "../../../src/model/address.js";
import { newCanonicalId } from "../../../src/model/ids.js";
import { MessageSchema } from "../../../src/model/message.js";
import type { AdapterFactory } from "../../../src/adapter/contract.js";
import type { PresenceNotification } from "../../../src/adapter/presence.js";
import type { Message } from "../../../src/model/message.js";
import { PresenceSchema } from "../../../src/model/presence.js";
import { testDoubleFactory, TestDoublePeer } from "../../support/test-double-adapter.js";
import { testMappings } from "../../support/mappings.js";
import { startTestGateway, type TestGateway } from "../../support/gateway.js";
import { waitFor } from "../delivery/helpers.js";

const alice = endpoint("alice@alpha.example", "alpha");
const bob = endpoint("bob@beta.example", "beta");
const mappings = testMappings({
  networks: { alpha: {}, beta: {} },
  domains: { "alpha.example": { home: "alpha" }, "beta.example": { home: "beta" } },
});
const auth = { method: "network" as const };

let gw: TestGateway | undefined;
afterEach(async () => { await gw?.destroy(); gw = undefined; });

const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.5)]!;
const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.95)]!;

describe("speed of notification", () => {
  it("T-3.4.1 in quiet times a presence change reaches a watcher about as fast as a message on the same path", async () => {
    const beta = new TestDoublePeer();
    const factories = [testDoubleFactory("alpha", new TestDoublePeer()), testDoubleFactory("beta", beta)] as unknown as AdapterFactory<unknown>[];
    gw = await startTestGateway({ factories, adapters: { alpha: {}, beta: {} }, mappings });
    const arrived = new Map<string, number>();
    beta.messages.push = (...ms: Message[]) => { for (const m of ms) arrived.set(m.id, performance.now()); return 0; };
    beta.presences.push = (...ns: PresenceNotification[]) => { for (const n of ns) arrived.set(n.presence.tuples[0]?.note?.en ?? "", performance.now()); return 0; };
    const at = () => new Date().toISOString();
    const rounds = 100;
    // One presentity per round, so no change waits for the previous one's fan-out interval.
    const presentities = Array.from({ length: rounds }, (_, i) => endpoint(`alice${i}@alpha.example`, "alpha"));
    const sub = (action: "request" | "approve", presentity: typeof alice) => ({ kind: "subscription" as const, request: { action, watcher: bob, presentity, actor: action === "request" ? bob : presentity, authenticatedBy: auth, at: at() } });
    for (const p of presentities) {
      expect(await gw.gateway.accept(bob.network, [sub("request", p)])).toEqual([{ status: "accepted" }]);
      expect(await gw.gateway.accept(alice.network, [sub("approve", p)])).toEqual([{ status: "accepted" }]);
    }
    await waitFor(() => beta.subscriptions.length >= rounds, 10_000, "the approvals");
    const messageMs: number[] = [];
    const presenceMs: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const m = MessageSchema.parse({ id: newCanonicalId(), from: alice, to: bob, authenticatedBy: auth, sentAt: at(), parts: [{ role: "text", body: `m${i}` }] });
      let t0 = performance.now();
      expect((await gw.gateway.accept(alice.network, [{ kind: "message", message: m }]))[0]?.status).toBe("accepted");
      await waitFor(() => arrived.has(m.id), 5000, "the message");
      messageMs.push(arrived.get(m.id)! - t0);
      const presence = PresenceSchema.parse({ presentity: presentities[i]!, tuples: [{ id: "r", basic: "open", note: { en: `p${i}` }, timestamp: at() }], version: Date.now() * 1000 + i, provenance: { source: "origin" } });
      t0 = performance.now();
      expect((await gw.gateway.accept(alice.network, [{ kind: "presence", presence, authenticatedBy: auth }]))[0]?.status).toBe("accepted");
      await waitFor(() => arrived.has(`p${i}`), 5000, "the notification");
      presenceMs.push(arrived.get(`p${i}`)! - t0);
    }
    const [msg50, pres50, msg95, pres95] = [p50(messageMs), p50(presenceMs), p95(messageMs), p95(presenceMs)];
    console.info(`T-3.4.1 message p50 ${msg50.toFixed(2)} p95 ${msg95.toFixed(2)} ms; presence p50 ${pres50.toFixed(2)} p95 ${pres95.toFixed(2)} ms; ${rounds} rounds`);
    // "About as fast" (the RFC gives no number). The samples interleave, so load on the machine hits
    // both; the typical case must be within 50% + 2 ms, and the tail within twice the message's + 5 ms
    // (the tail on a shared 2-core machine is scheduling noise; bench:presence measures under load).
    expect(pres50).toBeLessThanOrEqual(msg50 * 1.5 + 2);
    expect(pres95).toBeLessThanOrEqual(msg95 * 2 + 5);
  });
});
