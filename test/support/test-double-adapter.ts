/**
 * A test double of a network: an adapter whose "peer" is an in-memory mailbox. Used by the
 * contract suite to check the suite itself, and by core tests that need a network to deliver to.
 * Native ids: a home user is their canonical address; a foreign user is `<network>/<address>`.
 */
import { z } from "zod";
import {
  DeliveryError, type Adapter, type AdapterCapabilities, type AdapterContext, type AdapterFactory,
  type DeliveryOutcome, type NetworkAddressing,
} from "../../src/adapter/contract.js";
import type { PresenceDelivery, PresenceNotification, SubscriptionDelivery, SubscriptionNotice } from "../../src/adapter/presence.js";
import { asNetworkId, canonicalAddress, domainOf, type Endpoint, type NetworkId } from "../../src/model/address.js";
import type { Message } from "../../src/model/message.js";
import type { DeliveryStatus } from "../../src/model/delivery-status.js";
import type { DomainMappings } from "../../src/mappings/types.js";
import { ParleyError } from "../../src/errors/parley-error.js";

export const testDoubleCapabilities: AdapterCapabilities = {
  presence: true, subscriptions: true, receipts: { delivered: true, displayed: false },
  subject: true, html: false, edits: false, maxMessageBytes: 65_536,
  // It records what it is given, reply relations included (issue 18: the core strips a reply for
  // a network that does not declare replies).
  chat: { reactions: false, retractions: false, replies: true, typing: false },
};

export function testDoubleAddressing(network: NetworkId): NetworkAddressing {
  return {
    networkSettingsSchema: z.object({}).loose(),
    appearanceSchema: z.object({}).loose(),
    settingsClaims: () => [],
    appearanceClaims: () => [],
    toNative(who: Endpoint) {
      return who.network === network ? who.address : `${who.network}/${who.address}`;
    },
    fromNative(native: string, mappings: DomainMappings) {
      const slash = native.indexOf("/");
      if (slash < 0) {
        const address = canonicalAddress(native);
        const home = mappings.domains.get(domainOf(address))?.home;
        if (home !== undefined && home !== network) throw new ParleyError("PARLEY_ADDRESS_UNKNOWN", `${native} is not a ${network} user`);
        return { address, network };
      }
      return { network: asNetworkId(native.slice(0, slash)), address: canonicalAddress(native.slice(slash + 1)) };
    },
  };
}

export interface TestDoubleConfig { failWith?: "transient" | "permanent" | "rate-limited" | undefined }

/** What the in-memory peer received. */
export class TestDoublePeer {
  readonly messages: Message[] = [];
  readonly presences: PresenceNotification[] = [];
  readonly subscriptions: SubscriptionNotice[] = [];
  readonly statuses: DeliveryStatus[] = [];
  /** Set to make deliveries fail with this class until cleared. */
  failWith: TestDoubleConfig["failWith"];
  /** Set to make the adapter report not ready (e.g. a standby without the network's link). */
  notReady = false;
  /** Deliveries attempted, successful or not. */
  attempts = 0;
  /** Called with each delivered message instead of keeping it (benches moving many messages). */
  onMessage: ((m: Message) => void) | undefined;
}

/** What the local user's side of a network was answered when sending (ack after durability). */
export type InboundAnswer = "accepted" | "try-later" | "refused";

export class TestDoubleAdapter implements Adapter, PresenceDelivery, SubscriptionDelivery {
  ctx: AdapterContext | undefined;
  private started: boolean;
  /**
   * Made directly (core tests), it counts as running without `start`; made by its factory it
   * behaves like a real adapter: deliveries before `start` and after `stop` fail transiently.
   */
  constructor(readonly peer: TestDoublePeer, private readonly network: string = "double", opts: { running?: boolean } = {}) {
    this.started = opts.running ?? true;
  }
  async start(ctx: AdapterContext) { this.ctx = ctx; this.started = true; }
  async stop() { this.started = false; }
  private check() {
    if (!this.started) throw new DeliveryError("transient", "unavailable", "the test double is not running");
    this.peer.attempts++;
    if (this.peer.failWith) throw new DeliveryError(this.peer.failWith, this.peer.failWith === "permanent" ? "recipient-unknown" : "unavailable", `test double failing (${this.peer.failWith})`);
  }
  async deliverMessage(message: Message): Promise<DeliveryOutcome> {
    this.check();
    if (this.peer.onMessage) this.peer.onMessage(message);
    else this.peer.messages.push(message);
    return { state: "relayed", nativeIds: [{ network: this.network, kind: "message", id: `double-${message.id}` }] };
  }
  async deliverPresence(n: PresenceNotification) { this.check(); this.peer.presences.push(n); }
  async deliverSubscription(n: SubscriptionNotice) { this.check(); this.peer.subscriptions.push(n); }
  async deliverStatus(s: DeliveryStatus) { this.check(); this.peer.statuses.push(s); }
  /** The in-memory network's own ingress: hand a message to the core, answer as a network would. */
  async receive(message: Message): Promise<InboundAnswer> {
    if (!this.ctx) return "try-later";
    try {
      const [result] = await this.ctx.accept([{ kind: "message", message }]);
      return result?.status === "refused" ? "refused" : "accepted";
    } catch {
      return "try-later";
    }
  }
  health() {
    const ready = this.started && !this.peer.notReady;
    return { ready, detail: ready ? "up" : this.started ? "link held elsewhere" : "stopped" };
  }
}

/** A factory for a test-double network named `id`; `peer` is where its deliveries land. */
export function testDoubleFactory(id: string, peer: TestDoublePeer = new TestDoublePeer()) {
  const network = asNetworkId(id);
  return {
    id: network,
    capabilities: testDoubleCapabilities,
    configSchema: z.object({ failWith: z.enum(["transient", "permanent", "rate-limited"]).optional() }),
    addressing: testDoubleAddressing(network),
    docs: { readme: "test/support/test-double-adapter.ts" },
    create(config: TestDoubleConfig) {
      peer.failWith = config.failWith;
      return new TestDoubleAdapter(peer, network, { running: false });
    },
    peer,
  } satisfies AdapterFactory<TestDoubleConfig> & { peer: TestDoublePeer };
}
