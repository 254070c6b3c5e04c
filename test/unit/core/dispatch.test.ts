import { describe, expect, it } from "vitest";
import { Registry } from "prom-client";
import { Dispatcher } from "../../../src/core/dispatch.js";
import { createCoreMetrics } from "../../../src/core/metrics.js";
import { DeliveryError, type Adapter } from "../../../src/adapter/contract.js";
import { endpoint, type NetworkId } from "../../../src/model/address.js";
import { newCanonicalId } from "../../../src/model/ids.js";
import { MessageSchema } from "../../../src/model/message.js";
import type { DeliveryStatus } from "../../../src/model/delivery-status.js";
import type { DeliveryJob } from "../../../src/delivery/types.js";
import { silentLogger } from "../../../src/log/logger.js";
import { MemoryDelivery } from "../../support/memory-delivery.js";
import { MemoryIdMap } from "../../support/fake-context.js";
import { TestDoubleAdapter, TestDoublePeer } from "../../support/test-double-adapter.js";
import type { PresencePort } from "../../../src/core/ports.js";

const alice = endpoint("alice@chat.example", "alpha");
const bob = endpoint("bob@matrix.example", "beta");

function setup() {
  const delivery = new MemoryDelivery();
  const ids = new MemoryIdMap();
  const peer = new TestDoublePeer();
  const beta = new TestDoubleAdapter(peer);
  const adapters = new Map<NetworkId, Adapter>([[bob.network, beta]]);
  const dispatcher = new Dispatcher({
    adapters: (n) => adapters.get(n), presence: {} as PresencePort, delivery, ids,
    log: silentLogger(), metrics: createCoreMetrics(new Registry()),
  });
  const message = MessageSchema.parse({ id: newCanonicalId(), from: alice, to: bob, authenticatedBy: { method: "network" }, sentAt: new Date().toISOString(), parts: [{ role: "text", body: "hi" }] });
  const job: DeliveryJob = { kind: "message", network: bob.network, key: "k", conversation: "c", payload: message, attempt: 1 };
  return { delivery, ids, peer, beta, dispatcher, message, job };
}

describe("delivery dispatcher", () => {
  it("T-4.2.1 a hand-off is recorded as relayed and reports nothing to the sender", async () => {
    const s = setup();
    await s.dispatcher.deliver(s.job);
    expect(s.peer.messages).toHaveLength(1);
    expect(s.delivery.pending("status")).toHaveLength(0);
  });

  it("T-4.2.1 an end-to-end delivery reports `delivered` to the sender's network and links native ids", async () => {
    const s = setup();
    s.beta.deliverMessage = async () => ({ state: "delivered", nativeIds: [{ network: "beta", kind: "event", id: "$x" }] });
    await s.dispatcher.deliver(s.job);
    const [status] = s.delivery.pending("status");
    expect(status?.network).toBe("alpha");
    expect((status?.payload as DeliveryStatus).state).toBe("delivered");
    expect(await s.ids.canonicalFor({ network: "beta", kind: "event", id: "$x" })).toBe(s.message.id);
  });

  it("T-5.4.1 a final failure becomes a failed status for the sender, with the neutral reason and the native detail", async () => {
    const s = setup();
    await s.dispatcher.onFinalFailure(s.job, new DeliveryError("permanent", "recipient-unknown", "no such user", { nativeDetail: "M_NOT_FOUND" }));
    const [status] = s.delivery.pending("status");
    const payload = status?.payload as DeliveryStatus;
    expect(status?.network).toBe("alpha");
    expect(payload).toMatchObject({ state: "failed", reason: "recipient-unknown", messageId: s.message.id, sender: alice, recipient: bob });
    expect(payload.text).toMatch(/no such user/);
    expect(payload.extensions["urn:parley:native-detail"]?.payload).toBe("M_NOT_FOUND");
  });

  it("an adapter's classified failure propagates to the worker unchanged", async () => {
    const s = setup();
    s.peer.failWith = "rate-limited";
    await expect(s.dispatcher.deliver(s.job)).rejects.toMatchObject({ failureClass: "rate-limited" });
  });
});
