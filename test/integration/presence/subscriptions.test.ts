/**
 * Subscriptions on the real Redis (RFC 2779 §5.1, 3.2.2): requests answered by the presentity's
 * own network, rightful actors only, blocking, polite blocking, cancellation by either side.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PresenceHarness, alice, bob, dave, erin, mallory } from "./support/harness.js";

let h: PresenceHarness;
beforeEach(() => { h = new PresenceHarness(); });
afterEach(async () => { await h.close(); });

const states = async () => (await h.service.subscriptionsOf(alice, "watchers")).map((s) => [s.watcher.address, s.state]);

describe("subscriptions (RFC 2779 §5.1)", () => {
  it("T-5.1.11 T-3.2.3 the presentity is shown the request through its own network, and later sees the watcher in its list", async () => {
    await h.publish(alice, "open");
    expect(await h.act("request", bob, alice)).toEqual({ status: "accepted" });
    await h.drain();
    expect(h.peer("xmpp").subscriptions).toEqual([
      { to: alice, notice: "request", subscription: expect.objectContaining({ watcher: bob, presentity: alice, state: "pending" }) },
    ]);
    await h.act("approve", bob, alice);
    expect(await states()).toEqual([[bob.address, "approved"]]);
  });

  it("T-5.1.5 a refusal is told to the watcher", async () => {
    await h.act("request", bob, alice);
    await h.act("deny", bob, alice);
    await h.drain();
    expect(h.peer("matrix").subscriptions).toEqual([
      { to: bob, notice: "outcome", subscription: expect.objectContaining({ state: "denied", decidedBy: "presentity" }) },
    ]);
    expect(h.seen(bob)).toEqual([]);
  });

  it("T-5.1.6 no third party can subscribe someone: a request 'from bob' by mallory, or over another network, is refused", async () => {
    const byMallory = await h.act("request", bob, alice, { actor: mallory });
    const overXmpp = await h.act("request", bob, alice, { source: "xmpp" });
    expect(byMallory).toMatchObject({ status: "refused", error: { code: "PARLEY_NOT_AUTHENTICATED" } });
    expect(overXmpp).toMatchObject({ status: "refused", error: { code: "PARLEY_NOT_AUTHENTICATED" } });
    // Approving never creates a subscription the watcher did not ask for.
    expect(await h.act("approve", bob, alice)).toEqual({ status: "accepted" });
    expect(await states()).toEqual([]);
    await h.drain();
    expect(h.peer("xmpp").subscriptions.length + h.peer("matrix").subscriptions.length).toBe(0);
  });

  it("T-5.1.7 after the watcher cancels, no new notification is enqueued for it and a queued one sends nothing", async () => {
    await h.subscribe(bob, alice);
    await h.publish(alice, "open");
    expect(h.memory!.pending("presence")).toHaveLength(1); // the fan-out, not yet run
    await h.act("cancel", bob, alice);
    h.memory!.stored.length = 0;
    await h.drain();
    h.clock += 5000;
    await h.publish(alice, "closed");
    await h.drain();
    const forBob = h.memory!.stored.filter((s) => {
      const p = s.payload as { op: string; watcher?: { address: string }; watchers?: string[] };
      return s.kind === "presence" && (p.watcher?.address === bob.address || p.watchers?.includes(`matrix/${bob.address}`));
    });
    expect(forBob).toEqual([]);
    expect(h.seen(bob)).toEqual([]);
    expect(h.peer("xmpp").subscriptions).toEqual([{ to: alice, notice: "outcome", subscription: expect.objectContaining({ state: "cancelled", decidedBy: "watcher" }) }]);
  });

  it("T-5.1.8 a cancellation by a third party is refused and the subscription remains", async () => {
    await h.subscribe(bob, alice);
    expect(await h.act("cancel", bob, alice, { actor: mallory })).toMatchObject({ status: "refused" });
    expect(await h.act("revoke", bob, alice, { actor: dave })).toMatchObject({ status: "refused" });
    expect(await h.act("revoke", bob, alice, { source: "matrix", actor: { address: alice.address, network: bob.network } })).toMatchObject({ status: "refused" });
    expect(await h.act("cancel", bob, alice, { auth: { method: "none" } })).toMatchObject({ status: "refused" });
    expect(await states()).toEqual([[bob.address, "approved"]]);
  });

  it("T-5.1.9 T-5.1.16 the presentity revokes at will: the watcher is told, leaves the fan-out and queued notifications send nothing", async () => {
    await h.subscribe(bob, alice);
    await h.publish(alice, "open");
    await h.act("revoke", bob, alice);
    await h.drain();
    expect(h.peer("matrix").subscriptions).toEqual([{ to: bob, notice: "outcome", subscription: expect.objectContaining({ state: "cancelled", decidedBy: "presentity" }) }]);
    expect(h.seen(bob)).toEqual([]);
    h.clock += 5000;
    await h.publish(alice, "closed");
    await h.drain();
    expect(h.seen(bob)).toEqual([]);
    expect(await h.service.presenceFor(bob, alice)).toBeUndefined();
  });

  it("T-5.1.10 the watcher can learn the state of its subscription at any time", async () => {
    await h.act("request", bob, alice);
    expect((await h.service.subscriptionsOf(bob, "watching")).map((s) => s.state)).toEqual(["pending"]);
    await h.act("approve", bob, alice);
    expect((await h.service.subscriptionsOf(bob, "watching")).map((s) => [s.presentity.address, s.state])).toEqual([[alice.address, "approved"]]);
    expect((await h.admin.listSubscriptions("bob@matrix.example.org")).watching).toHaveLength(1);
  });

  it("T-5.1.12 T-5.1.14 an unproved watcher is refused by default", async () => {
    expect(await h.act("request", bob, alice, { auth: { method: "none" } })).toMatchObject({ status: "refused", error: { code: "PARLEY_NOT_AUTHENTICATED" } });
    expect(await states()).toEqual([]);
  });

  it("T-5.1.3 the presentity may choose to accept unproved watchers (they still wait for its decision)", async () => {
    await h.admin.setAccessRules("alice@chat.example.org", { subscribe: "anyone", allowUnauthenticatedSubscribers: true }, "test");
    expect(await h.act("request", bob, alice, { auth: { method: "none" } })).toEqual({ status: "accepted" });
    expect(await states()).toEqual([[bob.address, "pending"]]);
    await h.act("approve", bob, alice);
    expect(await states()).toEqual([[bob.address, "approved"]]);
  });

  it("T-5.1.13 a blocked watcher's request gets no answer and creates no record", async () => {
    await h.admin.setAccessRules("alice@chat.example.org", { subscribe: "anyone", blockSubscribers: [bob.address] }, "test");
    await h.drain();
    expect(await h.act("request", bob, alice)).toEqual({ status: "accepted" });
    await h.drain();
    expect(await states()).toEqual([]);
    expect(await h.service.subscriptionsOf(bob, "watching")).toEqual([]);
    for (const p of h.peers.values()) expect(p.subscriptions).toEqual([]);
  });

  it("T-5.1.15 a politely blocked watcher is told 'approved', only ever sees CLOSED, and nothing reveals the block", async () => {
    await h.admin.setAccessRules("alice@chat.example.org", { politelyBlocked: [bob.address] }, "test");
    await h.publish(alice, "open", { note: "hello" });
    await h.drain();
    await h.act("request", bob, alice);
    await h.drain();
    expect(h.peer("matrix").subscriptions).toEqual([{ to: bob, notice: "outcome", subscription: expect.objectContaining({ state: "approved" }) }]);
    for (const note of ["a", "b", "c"]) {
      h.clock += 2000;
      await h.publish(alice, "open", { note });
      await h.drain();
    }
    await h.probe(bob, alice);
    await h.drain();
    const seen = h.seen(bob, alice);
    expect(seen).toHaveLength(2); // one view on "approval", one for the probe: changes send nothing, not even their timing
    expect(new Set(seen.map((p) => JSON.stringify(p))).size).toBe(1);
    expect(seen[0]!.tuples.map((t) => t.basic)).toEqual(["closed"]);
    expect((await h.service.subscriptionsOf(bob, "watching")).map((s) => s.state)).toEqual(["approved"]);
    expect(await states()).toEqual([[bob.address, "politely-blocked"]]);
  });

  it("T-3.2.2 a request to an offline presentity waits and is shown when it comes back; approval completes it", async () => {
    await h.publish(alice, "closed");
    await h.act("request", bob, alice);
    await h.act("request", erin, alice);
    await h.act("cancel", erin, alice);
    await h.drain();
    expect(h.peer("xmpp").subscriptions.filter((s) => s.notice === "request")).toEqual([]);
    h.restart(); // the request survives a gateway restart (it lives in Redis)
    expect((await h.service.subscriptionsOf(alice, "watchers")).map((s) => [s.watcher.address, s.state]).sort()).toEqual([[bob.address, "pending"], [erin.address, "cancelled"]]);
    h.clock += 60_000;
    await h.publish(alice, "open");
    await h.drain();
    expect(h.peer("xmpp").subscriptions.filter((s) => s.notice === "request").map((s) => s.subscription.watcher)).toEqual([bob]);
    await h.act("approve", bob, alice);
    await h.drain();
    expect(h.seen(bob, alice).at(-1)?.tuples[0]?.basic).toBe("open");
    // Shown once: coming online again does not repeat an answered request.
    h.clearPeers();
    await h.publish(alice, "closed");
    await h.publish(alice, "open");
    await h.drain();
    expect(h.peer("xmpp").subscriptions).toEqual([]);
  });

  it("T-2.4.1 a subscription through the gateway records the original watcher, not the gateway", async () => {
    await h.act("request", bob, alice);
    const [sub] = await h.service.subscriptionsOf(alice, "watchers");
    expect(sub?.watcher).toEqual(bob);
  });
});
