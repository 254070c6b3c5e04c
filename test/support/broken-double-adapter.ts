/**
 * A deliberately broken adapter: it breaks every promise of the adapter contract at once, so
 * `test/contract/broken-double.test.ts` can prove that each contract check catches it. It keeps
 * the test double's peer record so the same setup (double-setup.ts) drives both.
 */
import { randomUUID } from "node:crypto";
import { z } from "zod";
import type { Adapter, AdapterCapabilities, AdapterContext, AdapterFactory, DeliveryOutcome } from "../../src/adapter/contract.js";
import type { PresenceDelivery } from "../../src/adapter/presence.js";
import { asNetworkId, type Endpoint } from "../../src/model/address.js";
import type { Message } from "../../src/model/message.js";
import { TestDoublePeer, testDoubleAddressing, type InboundAnswer } from "./test-double-adapter.js";

/** Claims subscriptions it does not implement. */
const capabilities: AdapterCapabilities = {
  presence: true, subscriptions: true, receipts: { delivered: false, displayed: false },
  subject: false, html: false, edits: false, maxMessageBytes: 1024,
};

class BrokenDoubleAdapter implements Adapter, PresenceDelivery {
  private ctx: AdapterContext | undefined;
  private stops = 0;
  constructor(private readonly peer: TestDoublePeer) {}
  async start(ctx: AdapterContext) { this.ctx = ctx; }
  /** Not idempotent. */
  async stop() { if (++this.stops > 1) throw new Error("already stopped"); }
  /** Delivers before start and after stop, loses the message, and mints a random id per attempt. */
  async deliverMessage(_message: Message): Promise<DeliveryOutcome> {
    if (this.peer.failWith) throw new Error(`peer said ${this.peer.failWith}`); // unclassified
    return { state: "delivered", nativeIds: [{ network: "broken", kind: "message", id: randomUUID() }] };
  }
  /** Drops statuses and presence. */
  async deliverStatus() {}
  async deliverPresence() {}
  /** Acknowledges whatever the core answered, and drops the sender's proof of identity. */
  async receive(message: Message): Promise<InboundAnswer> {
    await this.ctx?.accept([{ kind: "message", message: { ...message, authenticatedBy: { method: "none" } } }]).catch(() => undefined);
    return "accepted";
  }
  health() { return { ready: false, detail: "never ready" }; }
}

export function brokenDoubleFactory(peer = new TestDoublePeer()) {
  const network = asNetworkId("broken");
  const reversible = testDoubleAddressing(network);
  return {
    id: network,
    capabilities,
    configSchema: z.unknown(),
    addressing: { ...reversible, fromNative: (native: string): Endpoint => ({ ...reversible.fromNative(native, undefined as never), network: asNetworkId("elsewhere") }) },
    docs: { readme: "nowhere" },
    create: () => new BrokenDoubleAdapter(peer),
    peer,
  } satisfies AdapterFactory<unknown> & { peer: TestDoublePeer };
}
