import { beforeEach, describe, expect, it } from "vitest";
import { Registry } from "prom-client";
import type { AdapterCapabilities } from "../../../src/adapter/contract.js";
import { AcceptPipeline } from "../../../src/core/accept.js";
import { fitToFeatures } from "../../../src/core/features.js";
import { createCoreMetrics } from "../../../src/core/metrics.js";
import type { PresencePort, RouteFn } from "../../../src/core/ports.js";
import { asNetworkId, endpoint } from "../../../src/model/address.js";
import { newCanonicalId } from "../../../src/model/ids.js";
import { interactionOf } from "../../../src/model/interactions.js";
import { MessageSchema, type Message, type MessageInput } from "../../../src/model/message.js";
import { silentLogger } from "../../../src/log/logger.js";
import { MemoryDelivery } from "../../support/memory-delivery.js";
import { MemoryClaims, MemoryIdMap } from "../../support/fake-context.js";
import { testMappings } from "../../support/mappings.js";
import { testDoubleCapabilities } from "../../support/test-double-adapter.js";

const alice = endpoint("alice@chat.example", "alpha");
const bob = endpoint("bob@matrix.example", "beta");
const carol = endpoint("carol@mail.example", "gamma");
const mappings = testMappings({ networks: { alpha: {}, beta: {}, gamma: {} }, domains: {
  "chat.example": { home: "alpha" }, "matrix.example": { home: "beta" }, "mail.example": { home: "gamma" },
} });
const route: RouteFn = (_m, _from, to) => ({ ok: true, network: to.network });
const noPresence: PresencePort = {
  publish: async () => ({ status: "accepted" }), probe: async () => ({ status: "accepted" }), subscription: async () => ({ status: "accepted" }),
  presenceFor: async () => undefined, subscriptionsOf: async () => [], handleJob: async () => undefined,
};
const full: AdapterCapabilities = { ...testDoubleCapabilities, chat: { reactions: true, retractions: true, replies: true, typing: true } };
const mailLike: AdapterCapabilities = { ...testDoubleCapabilities, chat: { reactions: false, retractions: false, replies: true, typing: false } };
const { chat: _declared, ...bare }: AdapterCapabilities = testDoubleCapabilities;

function message(overrides: Partial<MessageInput> = {}): Message {
  return MessageSchema.parse({
    id: newCanonicalId(), from: alice, to: bob, authenticatedBy: { method: "network" },
    sentAt: new Date().toISOString(), parts: [{ role: "text", body: "👍" }], ...overrides,
  });
}

describe("everyday chat features in the canonical model (issue 18)", () => {
  it("a reaction names its target, key and whether it is added or removed", () => {
    const target = newCanonicalId();
    const m = message({ reaction: { target, key: "👍", op: "add" } });
    expect(m.reaction).toEqual({ target, key: "👍", op: "add" });
    expect(interactionOf(m)).toBe("reactions");
    expect(MessageSchema.safeParse({ ...m, reaction: { target, key: "", op: "add" } }).success).toBe(false);
    expect(MessageSchema.safeParse({ ...m, reaction: { target: "not-an-id", key: "👍", op: "add" } }).success).toBe(false);
  });

  it("a retraction names the message it retracts", () => {
    const m = message({ retracts: newCanonicalId() });
    expect(interactionOf(m)).toBe("retractions");
    expect(interactionOf(message())).toBeUndefined();
  });

  it("fitToFeatures drops what the target cannot show and keeps replies as plain messages where replies are unknown", () => {
    const log = silentLogger();
    const reaction = message({ reaction: { target: newCanonicalId(), key: "👍", op: "add" } });
    expect(fitToFeatures(reaction, full, bob.network, log)).toBe(reaction);
    expect(fitToFeatures(reaction, mailLike, carol.network, log)).toBe("not-shown");
    expect(fitToFeatures(message({ retracts: newCanonicalId() }), mailLike, carol.network, log)).toBe("not-shown");
    const reply = message({ inReplyTo: newCanonicalId() });
    expect(fitToFeatures(reply, mailLike, carol.network, log)).toBe(reply);
    const plain = fitToFeatures(reply, bare, asNetworkId("delta"), log);
    expect(plain !== "not-shown" && plain.inReplyTo).toBeUndefined();
  });
});

describe("accept pipeline and chat features (issue 18)", () => {
  let delivery: MemoryDelivery;
  let pipeline: AcceptPipeline;
  beforeEach(() => {
    delivery = new MemoryDelivery();
    pipeline = new AcceptPipeline({
      mappings: () => mappings, route, policy: { mayMessage: async () => ({ allowed: true }) }, presence: noPresence, delivery,
      claims: new MemoryClaims(), ids: new MemoryIdMap(),
      capabilities: (n) => (n === "gamma" ? mailLike : full),
      log: silentLogger(), metrics: createCoreMetrics(new Registry()),
    });
  });

  it("a reaction to a network that shows reactions is one job in the sender's conversation, after its messages", async () => {
    const first = message();
    const reaction = message({ reaction: { target: first.id, key: "👍", op: "add" } });
    const results = await pipeline.accept(alice.network, [{ kind: "message", message: first }, { kind: "message", message: reaction }]);
    expect(results.map((r) => r.status)).toEqual(["accepted", "accepted"]);
    const jobs = delivery.pending("message");
    expect(jobs.map((j) => (j.payload as Message).id)).toEqual([first.id, reaction.id]);
    expect(new Set(jobs.map((j) => j.conversation)).size).toBe(1);
  });

  it("a reaction or retraction to a network without them is accepted, not delivered, and nothing is refused to the sender", async () => {
    const target = newCanonicalId();
    const results = await pipeline.accept(alice.network, [
      { kind: "message", message: message({ to: carol, reaction: { target, key: "👍", op: "add" } }) },
      { kind: "message", message: message({ to: carol, retracts: target }) },
    ]);
    expect(results.map((r) => r.status)).toEqual(["accepted", "accepted"]);
    expect(delivery.stored).toHaveLength(0);
  });

  it("typing is refused as unsupported when no typing relay is plugged in, and never stored", async () => {
    const [r] = await pipeline.accept(alice.network, [{ kind: "typing", from: alice, to: bob, state: "composing", authenticatedBy: { method: "network" } }]);
    expect(r?.status === "refused" && r.error.code).toBe("PARLEY_UNSUPPORTED");
    expect(delivery.stored).toHaveLength(0);
  });
});
