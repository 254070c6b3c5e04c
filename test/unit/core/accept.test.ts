import { beforeEach, describe, expect, it } from "vitest";
import { Registry } from "prom-client";
import { AcceptPipeline } from "../../../src/core/accept.js";
import { createCoreMetrics } from "../../../src/core/metrics.js";
import type { MessagePolicy, PresencePort, RouteFn } from "../../../src/core/ports.js";
import { endpoint, type Endpoint } from "../../../src/model/address.js";
import { newCanonicalId } from "../../../src/model/ids.js";
import { MessageSchema, type Message, type MessageInput } from "../../../src/model/message.js";
import { DeliveryStatusSchema } from "../../../src/model/delivery-status.js";
import { PresenceSchema } from "../../../src/model/presence.js";
import { ParleyError } from "../../../src/errors/parley-error.js";
import { silentLogger } from "../../../src/log/logger.js";
import { MemoryDelivery } from "../../support/memory-delivery.js";
import { MemoryClaims, MemoryIdMap } from "../../support/fake-context.js";
import { testMappings } from "../../support/mappings.js";
import { testDoubleCapabilities } from "../../support/test-double-adapter.js";

const alice = endpoint("alice@chat.example", "alpha");
const bob = endpoint("bob@matrix.example", "beta");
const mallory = endpoint("mallory@chat.example", "alpha");

const mappings = testMappings({
  networks: { alpha: {}, beta: {} },
  domains: {
    "chat.example": { home: "alpha" },
    "matrix.example": { home: "beta" },
    "lenient.example": { home: "alpha", policy: { acceptUnauthenticated: true } },
  },
});

const routeByNetwork: RouteFn = (m, _from, to) => {
  const home = m.domains.get(to.address.split("@")[1]!)?.home;
  if (home !== undefined && home !== to.network) return { ok: false, error: new ParleyError("PARLEY_ADDRESS_UNKNOWN") };
  return { ok: true, network: to.network };
};

const blocks = new Set<string>();
const policy: MessagePolicy = {
  async mayMessage(from: Endpoint, to: Endpoint) {
    return blocks.has(`${from.address}>${to.address}`) ? { allowed: false, error: new ParleyError("PARLEY_REFUSED") } : { allowed: true };
  },
};

const noPresence: PresencePort = {
  publish: async () => ({ status: "accepted" }),
  probe: async () => ({ status: "accepted" }),
  subscription: async () => ({ status: "accepted" }),
  presenceFor: async () => undefined,
  subscriptionsOf: async () => [],
  handleJob: async () => undefined,
};

function message(overrides: Partial<MessageInput> = {}): Message {
  return MessageSchema.parse({
    id: newCanonicalId(), from: alice, to: bob, authenticatedBy: { method: "network" },
    sentAt: new Date().toISOString(), parts: [{ role: "text", body: "hello" }], ...overrides,
  });
}

describe("accept pipeline", () => {
  let delivery: MemoryDelivery;
  let claims: MemoryClaims;
  let ids: MemoryIdMap;
  let pipeline: AcceptPipeline;

  beforeEach(() => {
    delivery = new MemoryDelivery();
    claims = new MemoryClaims();
    ids = new MemoryIdMap();
    blocks.clear();
    pipeline = new AcceptPipeline({
      mappings: () => mappings, route: routeByNetwork, policy, presence: noPresence, delivery, claims, ids,
      capabilities: () => ({ ...testDoubleCapabilities, maxMessageBytes: 1000 }),
      log: silentLogger(), metrics: createCoreMetrics(new Registry()),
    });
  });

  it("T-2.1.3 enqueues one job for the recipient's network, in the sender→recipient conversation", async () => {
    const m = message();
    const [result] = await pipeline.accept(alice.network, [{ kind: "message", message: m }]);
    expect(result).toEqual({ status: "accepted", messageId: m.id });
    const [job] = delivery.pending("message");
    expect(job?.network).toBe("beta");
    expect(job?.conversation).toBe("alpha/alice@chat.example>beta/bob@matrix.example");
    expect((job?.payload as Message).hops).toBe(m.hops - 1);
  });

  it("T-2.4.3 drops a message whose hop count is spent, with a loop error for the sender", async () => {
    const [result] = await pipeline.accept(alice.network, [{ kind: "message", message: message({ hops: 0 }) }]);
    expect(result?.status).toBe("refused");
    expect(result?.status === "refused" && result.error.code).toBe("PARLEY_LOOP");
    expect(delivery.stored.length).toBe(0);
  });

  it("T-2.5.2 a replayed native id is acknowledged as a duplicate and delivered once", async () => {
    const nativeIds = [{ network: "alpha", kind: "stanza-id", id: "abc", scope: "chat.example" }];
    const first = message({ nativeIds });
    const replay = message({ nativeIds });
    await pipeline.accept(alice.network, [{ kind: "message", message: first }]);
    const [again] = await pipeline.accept(alice.network, [{ kind: "message", message: replay }]);
    expect(again).toEqual({ status: "duplicate" });
    const jobs = delivery.pending("message");
    expect(jobs).toHaveLength(1);
    expect((jobs[0]?.payload as Message).id).toBe(first.id);
  });

  it("issue 14: a message over the shared rate limit is refused PARLEY_RATE_LIMITED and its native id released, so the sender's resend is taken later", async () => {
    const verdicts = [new ParleyError("PARLEY_RATE_LIMITED", "slow down", { retryAfterMs: 900, scope: "sender" }), undefined];
    const counted: string[] = [];
    const limited = new AcceptPipeline({
      mappings: () => mappings, route: routeByNetwork, policy, presence: noPresence, delivery, claims, ids,
      capabilities: () => ({ ...testDoubleCapabilities, maxMessageBytes: 1000 }),
      log: silentLogger(), metrics: createCoreMetrics(new Registry()),
      limits: { admit: async (_source, from) => { counted.push(from.address); return verdicts.shift(); } },
    });
    const nativeIds = [{ network: "alpha", kind: "stanza-id", id: "rl-1", scope: "chat.example" }];
    const [first] = await limited.accept(alice.network, [{ kind: "message", message: message({ nativeIds }) }]);
    expect(first?.status === "refused" && [first.error.code, first.error.details.retryAfterMs]).toEqual(["PARLEY_RATE_LIMITED", 900]);
    expect(delivery.stored).toHaveLength(0);
    const resend = message({ nativeIds });
    expect(await limited.accept(alice.network, [{ kind: "message", message: resend }])).toEqual([{ status: "accepted", messageId: resend.id }]);
    expect(counted).toEqual([alice.address, alice.address]);
    const [duplicate] = await limited.accept(alice.network, [{ kind: "message", message: message({ nativeIds }) }]);
    expect(duplicate).toEqual({ status: "duplicate" }); // a replay is not counted again
    expect(counted).toHaveLength(2);
  });

  it("T-2.5.2 a replay whose first job was lost is enqueued again under its first canonical id", async () => {
    const nativeIds = [{ network: "alpha", kind: "event", id: "$e1" }];
    const first = message({ nativeIds });
    await claims.claim("alpha|event||$e1", first.id);
    const [again] = await pipeline.accept(alice.network, [{ kind: "message", message: message({ nativeIds }) }]);
    expect(again).toEqual({ status: "duplicate" });
    expect((delivery.pending("message")[0]?.payload as Message).id).toBe(first.id);
  });

  it("recognises Parley's own echo by a native id it recorded on delivery, never by content", async () => {
    const sent = message();
    await ids.link(sent.id, { network: "alpha", kind: "stanza-id", id: "ours-1" });
    const [result] = await pipeline.accept(alice.network, [{ kind: "message", message: message({ nativeIds: [{ network: "alpha", kind: "stanza-id", id: "ours-1" }] }) }]);
    expect(result).toEqual({ status: "duplicate" });
    const [sameText] = await pipeline.accept(alice.network, [{ kind: "message", message: message() }]);
    expect(sameText?.status).toBe("accepted");
  });

  it("T-4.1.2 refuses a message without a recipient, naming the field", async () => {
    const bad = { ...message(), to: undefined } as unknown as Message;
    const [result] = await pipeline.accept(alice.network, [{ kind: "message", message: bad }]);
    expect(result?.status === "refused" && result.error.code).toBe("PARLEY_INVALID_EVENT");
    expect(result?.status === "refused" && result.error.message).toMatch(/^message field to:/);
  });

  it("T-5.4.3 a connection of one network cannot send as a user of another", async () => {
    const [result] = await pipeline.accept(bob.network, [{ kind: "message", message: message() }]);
    expect(result?.status === "refused" && result.error.code).toBe("PARLEY_NOT_AUTHENTICATED");
  });

  it("T-5.1.12 an unproved sender is refused unless the sender's domain accepts unauthenticated mail", async () => {
    const strict = await pipeline.accept(alice.network, [{ kind: "message", message: message({ authenticatedBy: { method: "none" } }) }]);
    expect(strict[0]?.status === "refused" && strict[0].error.code).toBe("PARLEY_NOT_AUTHENTICATED");
    const lenient = await pipeline.accept(alice.network, [{ kind: "message", message: message({ from: endpoint("x@lenient.example", "alpha"), authenticatedBy: { method: "none" } }) }]);
    expect(lenient[0]?.status).toBe("accepted");
  });

  it("T-2.3.5 T-5.4.10 a blocked sender's message never reaches the queue, and the error does not disclose the block", async () => {
    blocks.add(`${mallory.address}>${bob.address}`);
    const [result] = await pipeline.accept(alice.network, [{ kind: "message", message: message({ from: mallory }) }]);
    expect(result?.status === "refused" && result.error.code).toBe("PARLEY_REFUSED");
    expect(result?.status === "refused" && result.error.message).not.toMatch(/block/i);
    expect(delivery.stored.length).toBe(0);
  });

  it("T-5.4.6 a message that must stay end-to-end encrypted is never delivered in clear", async () => {
    const [result] = await pipeline.accept(alice.network, [{ kind: "message", message: message({ requireE2E: true }) }]);
    expect(result?.status === "refused" && result.error.code).toBe("PARLEY_UNSUPPORTED");
  });

  it("T-3.1.4 a must-understand extension the recipient's network cannot carry is refused to the sender; an optional one passes", async () => {
    const must = { "urn:example:secure-label": { payload: { level: "confidential" }, mustUnderstand: true } };
    const [refusedResult] = await pipeline.accept(alice.network, [{ kind: "message", message: message({ extensions: must }) }]);
    expect(refusedResult?.status === "refused" && refusedResult.error.code).toBe("PARLEY_UNSUPPORTED");
    expect(refusedResult?.status === "refused" && refusedResult.error.message).toContain("urn:example:secure-label");
    const optional = { "urn:example:secure-label": { payload: { level: "confidential" } } };
    const [passed] = await pipeline.accept(alice.network, [{ kind: "message", message: message({ extensions: optional }) }]);
    expect(passed?.status).not.toBe("refused");
  });

  it("refuses a message larger than the recipient's network takes", async () => {
    const [result] = await pipeline.accept(alice.network, [{ kind: "message", message: message({ parts: [{ role: "text", body: "x".repeat(1001) }] }) }]);
    expect(result?.status === "refused" && result.error.code).toBe("PARLEY_TOO_LARGE");
  });

  it("routes refusals from the mappings back to the sender", async () => {
    const wrongNetwork = endpoint("bob@matrix.example", "alpha");
    const [result] = await pipeline.accept(alice.network, [{ kind: "message", message: message({ to: wrongNetwork }) }]);
    expect(result?.status === "refused" && result.error.code).toBe("PARLEY_ADDRESS_UNKNOWN");
  });

  it("with the queue down, rejects the whole batch and releases its claims so the source's retry is not a replay", async () => {
    delivery.down = true;
    const nativeIds = [{ network: "alpha", kind: "stanza-id", id: "retry-me" }];
    await expect(pipeline.accept(alice.network, [{ kind: "message", message: message({ nativeIds }) }])).rejects.toMatchObject({ code: "PARLEY_UNAVAILABLE" });
    expect(claims.claims.size).toBe(0);
    delivery.down = false;
    const [result] = await pipeline.accept(alice.network, [{ kind: "message", message: message({ nativeIds }) }]);
    expect(result?.status).toBe("accepted");
  });

  it("T-4.2.1 forwards end-to-end statuses to the sender's network, but not hand-offs", async () => {
    const base = { messageId: newCanonicalId(), sender: alice, recipient: bob, at: new Date().toISOString() };
    await pipeline.accept(bob.network, [{ kind: "delivery-status", status: DeliveryStatusSchema.parse({ ...base, state: "relayed" }) }]);
    expect(delivery.pending("status")).toHaveLength(0);
    await pipeline.accept(bob.network, [{ kind: "delivery-status", status: DeliveryStatusSchema.parse({ ...base, state: "delivered" }) }]);
    const [job] = delivery.pending("status");
    expect(job?.network).toBe("alpha");
  });

  it("T-3.4.1 in a batch, messages are queued before presence is handled, so presence never delays them", async () => {
    const seen: string[] = [];
    const presence: PresencePort = { ...noPresence, publish: async () => { seen.push(`presence after ${delivery.pending("message").length} message jobs`); return { status: "accepted" }; } };
    const p = new AcceptPipeline({
      mappings: () => mappings, route: routeByNetwork, policy, presence, delivery, claims, ids,
      capabilities: () => testDoubleCapabilities, log: silentLogger(), metrics: createCoreMetrics(new Registry()),
    });
    const presenceEvent = { kind: "presence" as const, authenticatedBy: { method: "network" as const }, presence: PresenceSchema.parse({ presentity: alice, tuples: [], version: 1, provenance: { source: "origin" } }) };
    const results = await p.accept(alice.network, [presenceEvent, { kind: "message", message: message() }]);
    expect(seen).toEqual(["presence after 1 message jobs"]);
    expect(results.map((r) => r.status)).toEqual(["accepted", "accepted"]);
  });

  it("T-2.5.1 an event whose values make processing throw deterministically is refused alone; a storage error still fails the batch", async () => {
    let fault: Error = new RangeError("Invalid time value");
    const presence: PresencePort = { ...noPresence, publish: async () => { throw fault; } };
    const p = new AcceptPipeline({
      mappings: () => mappings, route: routeByNetwork, policy, presence, delivery, claims, ids,
      capabilities: () => testDoubleCapabilities, log: silentLogger(), metrics: createCoreMetrics(new Registry()),
    });
    const presenceEvent = { kind: "presence" as const, authenticatedBy: { method: "network" as const }, presence: PresenceSchema.parse({ presentity: alice, tuples: [], version: 1, provenance: { source: "origin" } }) };
    const results = await p.accept(alice.network, [{ kind: "message", message: message() }, presenceEvent]);
    expect(results.map((r) => r.status)).toEqual(["accepted", "refused"]);
    expect(results[1]?.status === "refused" && results[1].error.code).toBe("PARLEY_INVALID_EVENT");
    fault = new Error("Connection is closed.");
    await expect(p.accept(alice.network, [presenceEvent])).rejects.toMatchObject({ code: "PARLEY_UNAVAILABLE" });
  });

  it("T-2.5.1 a message too large only because of its HTML goes as plain text; text alone too large is refused naming the limit", async () => {
    const html = { role: "html" as const, body: `<p>${"x".repeat(2000)}</p>` };
    const [ok] = await pipeline.accept(alice.network, [{ kind: "message", message: message({ parts: [{ role: "text", body: "short" }, html] }) }]);
    expect(ok?.status).toBe("accepted");
    expect((delivery.pending("message")[0]?.payload as Message).parts.map((p) => p.role)).toEqual(["text"]);
    const [tooBig] = await pipeline.accept(alice.network, [{ kind: "message", message: message({ parts: [{ role: "text", body: "y".repeat(1500) }, html] }) }]);
    expect(tooBig?.status === "refused" && tooBig.error.code).toBe("PARLEY_TOO_LARGE");
    expect(tooBig?.status === "refused" && tooBig.error.message).toContain("1500 bytes; beta takes at most 1000");
  });

  it("T-5.4.3 a network cannot report statuses for another network's recipients", async () => {
    const status = DeliveryStatusSchema.parse({ messageId: newCanonicalId(), sender: alice, recipient: bob, state: "delivered", at: new Date().toISOString() });
    const [result] = await pipeline.accept(alice.network, [{ kind: "delivery-status", status }]);
    expect(result?.status === "refused" && result.error.code).toBe("PARLEY_NOT_AUTHENTICATED");
  });
});
