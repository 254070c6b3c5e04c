import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Registry } from "prom-client";
import type { Adapter, AdapterCapabilities } from "../../../src/adapter/contract.js";
import type { RoomTypingDelivery, RoomTypingNotice, TypingDelivery } from "../../../src/adapter/features.js";
import { TypingRelay } from "../../../src/core/typing.js";
import type { RouteFn } from "../../../src/core/ports.js";
import { canonicalAddress, endpoint } from "../../../src/model/address.js";
import type { ChatState, RoomTypingEvent, TypingEvent, TypingNotice } from "../../../src/model/interactions.js";
import { ParleyError } from "../../../src/errors/parley-error.js";
import { silentLogger } from "../../../src/log/logger.js";
import { testMappings } from "../../support/mappings.js";
import { testDoubleCapabilities } from "../../support/test-double-adapter.js";

const alice = endpoint("alice@chat.example", "alpha");
const bob = endpoint("bob@matrix.example", "beta");
const carol = endpoint("carol@mail.example", "gamma");
const mappings = testMappings({ networks: { alpha: {}, beta: {}, gamma: {} }, domains: {} });
const route: RouteFn = (_m, _from, to) => ({ ok: true, network: to.network });
const typing = (state: ChatState, to = bob, from = alice): TypingEvent => ({ kind: "typing", from, to, state, authenticatedBy: { method: "network" } });

describe("best-effort typing relay (issue 18)", () => {
  let shown: TypingNotice[];
  let relay: TypingRelay;
  let registry: Registry;
  let blocked: boolean;

  beforeEach(() => {
    vi.useFakeTimers();
    shown = [];
    blocked = false;
    registry = new Registry();
    const target = { health: () => ({ ready: true, detail: "" }), deliverTyping: async (n: TypingNotice) => { shown.push(n); } } as unknown as Adapter & TypingDelivery;
    const caps = (n: string): AdapterCapabilities => ({ ...testDoubleCapabilities, ...(n === "beta" ? { chat: { reactions: true, retractions: true, replies: true, typing: true } } : {}) });
    relay = new TypingRelay({
      mappings: () => mappings, route, adapters: () => target, capabilities: caps, log: silentLogger(), registry, intervalMs: 1000,
      policy: { mayMessage: async () => (blocked ? { allowed: false, error: new ParleyError("PARLEY_REFUSED") } : { allowed: true }) },
    });
  });
  afterEach(() => {
    relay.stop();
    vi.useRealTimers();
  });

  it("a storm of changes in one conversation becomes at most one notice per interval, the newest state last", async () => {
    for (let i = 0; i < 100; i++) expect(relay.offer(alice.network, typing(i % 2 === 0 ? "composing" : "paused")).status).toBe("accepted");
    relay.offer(alice.network, typing("active"));
    await vi.advanceTimersByTimeAsync(0);
    expect(shown.map((n) => n.state)).toEqual(["composing"]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(shown.map((n) => n.state)).toEqual(["composing", "active"]);
    await vi.advanceTimersByTimeAsync(5000);
    expect(shown).toHaveLength(2);
    const coalesced = (await registry.getSingleMetric("parley_typing_notices_total")?.get())?.values.find((v) => v.labels.outcome === "coalesced")?.value;
    expect(coalesced).toBe(99);
  });

  it("conversations are limited separately", async () => {
    relay.offer(alice.network, typing("composing"));
    relay.offer(alice.network, typing("composing", bob, endpoint("dave@chat.example", "alpha")));
    await vi.advanceTimersByTimeAsync(0);
    expect(shown).toHaveLength(2);
  });

  it("drops typing for a network that cannot show it, and for a sender the recipient blocks", async () => {
    relay.offer(alice.network, typing("composing", carol));
    blocked = true;
    relay.offer(alice.network, typing("composing"));
    await vi.advanceTimersByTimeAsync(2000);
    expect(shown).toHaveLength(0);
  });

  it("refuses typing claimed for a user of another network", () => {
    const r = relay.offer(bob.network, typing("composing"));
    expect(r.status === "refused" && r.error.code).toBe("PARLEY_NOT_AUTHENTICATED");
  });
});

describe("typing in bridged rooms (issue 18 in rooms)", () => {
  const room = {
    key: "link:team", origin: "linked" as const, home: alice.network, address: canonicalAddress("team@conference.chat.example"),
    natives: new Map([[alice.network, { network: alice.network, id: "team@conference.chat.example" }], [bob.network, { network: bob.network, id: "!team:matrix.example" }], [carol.network, { network: carol.network, id: "team@lists.example" }]]),
  };
  let shown: RoomTypingNotice[];
  let relay: TypingRelay;

  beforeEach(() => {
    vi.useFakeTimers();
    shown = [];
    const target = { health: () => ({ ready: true, detail: "" }), deliverRoomTyping: async (n: RoomTypingNotice) => { shown.push(n); } } as unknown as Adapter & RoomTypingDelivery;
    const caps = (n: string): AdapterCapabilities => ({ ...testDoubleCapabilities, chat: { reactions: true, retractions: true, replies: true, typing: n !== "gamma" } });
    relay = new TypingRelay({
      mappings: () => mappings, route, adapters: () => target, capabilities: caps, log: silentLogger(), registry: new Registry(), intervalMs: 1000,
      policy: { mayMessage: async () => ({ allowed: true }) },
      rooms: { find: async (network, id) => (room.natives.get(network)?.id === id ? room : undefined) },
    });
  });
  afterEach(() => {
    relay.stop();
    vi.useRealTimers();
  });

  const inRoom = (state: ChatState, id = "team@conference.chat.example"): RoomTypingEvent => ({ kind: "room-typing", room: { network: alice.network, id }, from: alice, state, authenticatedBy: { method: "network" } });

  it("a member's typing shows in the other native rooms whose network shows typing, rate-limited per member", async () => {
    for (let i = 0; i < 50; i++) relay.offerRoom(alice.network, inRoom(i % 2 === 0 ? "composing" : "paused"));
    await vi.advanceTimersByTimeAsync(0);
    expect(shown.map((n) => `${n.room.network}:${n.state}`)).toEqual(["beta:composing"]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(shown.map((n) => `${n.room.network}:${n.state}`)).toEqual(["beta:composing", "beta:paused"]);
    expect(shown[0]!.room.id).toBe("!team:matrix.example");
  });

  it("typing in a room that is not bridged shows nowhere; a room of another network is refused", async () => {
    relay.offerRoom(alice.network, inRoom("composing", "other@conference.chat.example"));
    await vi.advanceTimersByTimeAsync(0);
    expect(shown).toHaveLength(0);
    const r = relay.offerRoom(alice.network, { ...inRoom("composing"), room: { network: bob.network, id: "!team:matrix.example" } });
    expect(r.status === "refused" && r.error.code).toBe("PARLEY_NOT_AUTHENTICATED");
  });
});
