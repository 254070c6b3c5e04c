/**
 * The one contract suite every adapter passes (RFC 2779 T-3.1.1, T-4.1.1). Each adapter's test
 * calls {@link adapterContractSuite} with a setup that starts the adapter against its real peer
 * (or, for the test double, against nothing) and hooks that observe and drive that peer.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Adapter, AdapterFactory } from "../../src/adapter/contract.js";
import { deliversPresence } from "../../src/adapter/presence.js";
import type { Endpoint } from "../../src/model/address.js";
import { newCanonicalId } from "../../src/model/ids.js";
import { MessageSchema, type Message } from "../../src/model/message.js";
import { PresenceSchema, type Presence } from "../../src/model/presence.js";
import type { MessageEvent } from "../../src/model/events.js";
import type { DomainMappings } from "../../src/mappings/types.js";
import type { FakeContext } from "../support/fake-context.js";

export interface ContractSetup {
  factory: AdapterFactory<unknown>;
  adapter: Adapter;
  ctx: FakeContext;
  mappings: DomainMappings;
  /** A user whose home is this adapter's network, reachable on the peer. */
  localUser: Endpoint;
  /** A user of another network, as seen from this one (a puppet, an escaped JID, a gateway mail address). */
  foreignUser: Endpoint;
  /** Resolve when the peer shows `localUser` received a message whose text is `text`. */
  expectReceived(text: string): Promise<void>;
  /** Make `localUser` send `text` to `foreignUser` through the peer. */
  sendFromLocal(text: string): Promise<void>;
  /** Networks with presence: resolve when the peer shows `localUser` seeing `foreignUser` as `basic`. */
  expectPresenceSeen?(basic: "open" | "closed"): Promise<void>;
  teardown(): Promise<void>;
}

export function canonicalTextMessage(from: Endpoint, to: Endpoint, text: string): Message {
  return MessageSchema.parse({
    id: newCanonicalId(),
    from,
    to,
    authenticatedBy: { method: "network", detail: "contract suite" },
    sentAt: new Date().toISOString(),
    kind: "chat",
    parts: [{ role: "text", body: text }],
  });
}

export function canonicalPresence(presentity: Endpoint, basic: "open" | "closed", version: number): Presence {
  return PresenceSchema.parse({
    presentity,
    tuples: [{ id: "contract", basic, timestamp: new Date().toISOString(), note: { en: `contract ${basic}` } }],
    version,
    provenance: { source: "origin" },
  });
}

export function adapterContractSuite(name: string, setup: () => Promise<ContractSetup>): void {
  describe(`adapter contract: ${name}`, () => {
    let s: ContractSetup;
    beforeAll(async () => { s = await setup(); });
    afterAll(async () => { await s?.teardown(); });

    it("T-3.1.1 T-4.1.1 declares an id, capabilities and a config schema", () => {
      expect(s.factory.id).toMatch(/^[a-z][a-z0-9-]*$/);
      const c = s.factory.capabilities;
      expect(typeof c.presence).toBe("boolean");
      expect(c.maxMessageBytes).toBeGreaterThan(0);
      expect(s.factory.configSchema.safeParse(42).success).toBe(false);
    });

    it("T-2.1.4 maps its users and foreign users to native ids and back", () => {
      for (const who of [s.localUser, s.foreignUser]) {
        const native = s.factory.addressing.toNative(who, s.mappings);
        expect(s.factory.addressing.fromNative(native, s.mappings)).toEqual(who);
      }
    });

    it("is ready once started", () => {
      expect(s.adapter.health().ready).toBe(true);
    });

    it("T-4.1.1 delivers a canonical message to a local user", async () => {
      const text = `contract out ${newCanonicalId()}`;
      const outcome = await s.adapter.deliverMessage(canonicalTextMessage(s.foreignUser, s.localUser, text));
      expect(["relayed", "delivered"]).toContain(outcome.state);
      await s.expectReceived(text);
    });

    it("T-4.1.2 turns a local user's message into a canonical message naming sender and recipient", async () => {
      const text = `contract in ${newCanonicalId()}`;
      await s.sendFromLocal(text);
      const event = await s.ctx.waitForAccepted(
        (e): e is MessageEvent => e.kind === "message" && e.message.parts.some((p) => p.role === "text" && p.body.includes(text)),
      );
      expect(event.message.from).toEqual(s.localUser);
      expect(event.message.to).toEqual(s.foreignUser);
      expect(event.message.authenticatedBy.method).not.toBe("none");
    });

    it("T-3.1.1 shows a foreign presentity's presence to a local watcher, or declares no presence", async () => {
      if (!s.factory.capabilities.presence) {
        expect(s.expectPresenceSeen).toBeUndefined();
        return;
      }
      if (!deliversPresence(s.adapter)) throw new Error("declares presence but does not implement PresenceDelivery");
      await s.adapter.deliverPresence({ watcher: s.localUser, presence: canonicalPresence(s.foreignUser, "open", Date.now()) });
      await s.expectPresenceSeen!("open");
    });

    it("stops idempotently", async () => {
      await s.adapter.stop();
      await s.adapter.stop();
    });
  });
}
