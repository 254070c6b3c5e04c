/**
 * Access rules on the real Redis (RFC 2779 §2.3, §3.3, §5.2, §5.3), through the presence service
 * with test-double adapters for the networks.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CLOSED_VIEW_TIMESTAMP } from "../../../src/policy/project.js";
import { PresenceHarness, alice, bob, carol, dave, erin, mallory } from "./support/harness.js";

let h: PresenceHarness;
beforeEach(() => { h = new PresenceHarness(); });
afterEach(async () => { await h.close(); });

describe("who sees what (RFC 2779 §2.3)", () => {
  it("T-2.3.1 a watcher the presentity did not approve gets nothing by probe, fetch or push", async () => {
    await h.subscribe(bob, alice);
    await h.act("request", erin, alice); // pending: not approved
    await h.publish(alice, "open", { note: "here" });
    await h.probe(erin, alice);
    await h.drain();
    expect(h.seen(bob, alice)).toHaveLength(1);
    expect(h.seen(erin, alice)).toEqual([]);
    expect(await h.service.presenceFor(erin, alice)).toBeUndefined();
    expect(await h.service.presenceFor(mallory, alice)).toBeUndefined();
  });

  it("T-2.3.2 an unapproved subscriber gets no notifications while pending, and does once approved", async () => {
    await h.act("request", bob, alice);
    await h.publish(alice, "open");
    await h.drain();
    expect(h.seen(bob)).toEqual([]);
    await h.act("approve", bob, alice);
    await h.drain();
    expect(h.seen(bob, alice).map((p) => p.tuples[0]!.basic)).toEqual(["open"]);
  });

  it("T-2.3.3 a basic-only watcher gets the same view by probe and by push, with no status text", async () => {
    await h.subscribe(bob, alice);
    await h.admin.setAccessRules("alice@chat.example.org", { visibility: { [bob.address]: "basic" } }, "test");
    await h.drain();
    h.clearPeers();
    await h.publish(alice, "open", { show: "dnd", note: "secret meeting" });
    await h.drain();
    const pushed = h.seen(bob, alice);
    expect(pushed).toHaveLength(1);
    h.clearPeers();
    await h.probe(bob, alice);
    await h.drain();
    const probed = h.seen(bob, alice);
    expect(probed).toEqual(pushed);
    expect(await h.service.presenceFor(bob, alice)).toEqual(pushed[0]);
    expect(JSON.stringify(pushed)).not.toMatch(/secret|dnd/);
  });

  it("T-2.3.4 a publish for alice from another network or unproved is refused and the stored state is unchanged", async () => {
    await h.publish(alice, "open", { note: "mine" });
    const before = await h.admin.showPresence("alice@chat.example.org");
    const fromMatrix = await h.publish(alice, "closed", { source: "matrix", version: 1e12 });
    const unproved = await h.publish(alice, "closed", { auth: { method: "none" }, version: 1e12 + 1 });
    const wrongHome = await h.publish({ address: alice.address, network: bob.network }, "closed", { version: 1e12 + 2 });
    for (const r of [fromMatrix, unproved, wrongHome]) expect(r).toMatchObject({ status: "refused", error: { code: "PARLEY_NOT_AUTHENTICATED" } });
    expect(await h.admin.showPresence("alice@chat.example.org")).toEqual(before);
  });

  it("T-2.3.5 T-5.4.10 a blocked sender is refused with a neutral error, from any network", async () => {
    await h.admin.setAccessRules("alice@chat.example.org", { blockSenders: [bob.address, carol.address] }, "test");
    const policy = h.service.parts.policy;
    for (const sender of [bob, carol, { address: bob.address, network: alice.network }]) {
      const v = await policy.mayMessage(sender, alice);
      expect(v.allowed).toBe(false);
      if (!v.allowed) {
        expect(v.error.code).toBe("PARLEY_REFUSED");
        expect(v.error.message).not.toMatch(/block/i);
      }
    }
    expect(await policy.mayMessage(dave, alice)).toEqual({ allowed: true });
  });

  it("T-2.3.7 with alice out of contact, a blocked watcher's request is still dropped and an allowed probe is answered CLOSED with the last time", async () => {
    await h.subscribe(bob, alice);
    await h.publish(alice, "open");
    h.clock += 5000;
    await h.publish(alice, "closed");
    const lastSeen = new Date(h.clock).toISOString();
    await h.admin.setAccessRules("alice@chat.example.org", { blockSubscribers: [mallory.address] }, "test");
    await h.drain();
    h.clearPeers();
    expect(await h.act("request", mallory, alice)).toEqual({ status: "accepted" });
    await h.probe(bob, alice);
    await h.drain();
    expect(await h.service.subscriptionsOf(alice, "watchers")).toHaveLength(1);
    expect(h.peer("xmpp").subscriptions).toEqual([]);
    const answer = h.seen(bob, alice);
    expect(answer).toHaveLength(1);
    expect(answer[0]!.tuples).toEqual([expect.objectContaining({ basic: "closed", timestamp: lastSeen })]);
  });
});

describe("caching (RFC 2779 §3.3)", () => {
  it("T-3.3.1 presence is kept in the store: repeated fetches make no call to any network", async () => {
    await h.subscribe(bob, alice);
    await h.publish(alice, "open");
    await h.drain();
    h.clearPeers();
    const jobsBefore = h.memory!.stored.length;
    const a = await h.service.presenceFor(bob, alice);
    const b = await h.service.presenceFor(bob, alice);
    expect(a).toEqual(b);
    expect(a?.tuples[0]?.basic).toBe("open");
    expect(h.memory!.stored.length).toBe(jobsBefore);
    for (const p of h.peers.values()) expect(p.presences.length + p.subscriptions.length).toBe(0);
  });

  it("T-3.3.2 an older update arriving after a newer one does not overwrite it", async () => {
    await h.subscribe(bob, alice);
    expect(await h.publish(alice, "open", { version: 10, note: "new" })).toEqual({ status: "accepted" });
    expect(await h.publish(alice, "closed", { version: 9, note: "old" })).toEqual({ status: "duplicate" });
    expect(await h.publish(alice, "closed", { version: 10, note: "replayed" })).toEqual({ status: "duplicate" });
    await h.drain();
    expect((await h.service.presenceFor(bob, alice))?.tuples[0]).toMatchObject({ basic: "open", note: { en: "new" } });
    expect(h.seen(bob, alice).every((p) => p.tuples[0]!.basic === "open")).toBe(true);
  });

  it("T-3.3.3 after a full-access watcher reads, a restricted watcher still gets its restricted view", async () => {
    await h.subscribe(bob, alice);
    await h.subscribe(erin, alice);
    await h.admin.setAccessRules("alice@chat.example.org", { visibility: { [erin.address]: "basic" } }, "test");
    await h.publish(alice, "open", { show: "away", note: "lunch" });
    await h.drain();
    const full = await h.service.presenceFor(bob, alice);
    expect(full?.tuples[0]?.note).toEqual({ en: "lunch" });
    const restricted = await h.service.presenceFor(erin, alice);
    expect(restricted?.tuples).toEqual([expect.objectContaining({ id: "basic", basic: "open" })]);
    expect(JSON.stringify(restricted)).not.toContain("lunch");
    expect(JSON.stringify(h.seen(erin, alice))).not.toContain("lunch");
  });
});

describe("notifications (RFC 2779 §5.2, §5.3)", () => {
  it("T-5.2.1 a notification is addressed to its watcher alone, through the watcher's own network", async () => {
    await h.subscribe(bob, alice);
    await h.subscribe(dave, alice);
    await h.publish(alice, "open");
    await h.drain();
    expect(h.peer("matrix").presences.map((n) => n.watcher)).toEqual([bob]);
    expect(h.peer("xmpp").presences.map((n) => n.watcher)).toEqual([dave]);
    expect(h.peer("email").presences).toEqual([]);
  });

  it("T-5.2.2 after a broken link, the watcher converges on the final state rather than a replay of every change", async () => {
    await h.subscribe(bob, alice);
    h.peer("matrix").failWith = "transient";
    const notes = ["one", "two", "three", "four", "five"];
    for (const note of notes) {
      h.clock += 2000;
      await h.publish(alice, "open", { note });
      await h.drain();
    }
    expect(h.memory!.failed.length).toBeGreaterThan(0);
    h.peer("matrix").failWith = undefined;
    // The worker's retry of the failed job reads the newest state.
    await h.handler.deliver(h.memory!.failed.at(-1)!.job);
    expect(h.seen(bob, alice).map((p) => p.tuples[0]!.note)).toEqual([{ en: "five" }]);
  });

  it("T-5.2.3 alice invisible to bob: bob sees CLOSED while erin sees OPEN at the same moment", async () => {
    await h.subscribe(bob, alice);
    await h.subscribe(erin, alice);
    await h.admin.setAccessRules("alice@chat.example.org", { visibility: { [bob.address]: "closed" } }, "test");
    await h.publish(alice, "open");
    await h.drain();
    expect((await h.service.presenceFor(bob, alice))?.tuples).toEqual([{ id: "parley", service: "im", basic: "closed", timestamp: CLOSED_VIEW_TIMESTAMP }]);
    expect((await h.service.presenceFor(erin, alice))?.tuples[0]?.basic).toBe("open");
    expect(h.seen(bob, alice).every((p) => p.tuples[0]!.basic === "closed")).toBe(true);
    expect(h.seen(erin, alice).at(-1)?.tuples[0]?.basic).toBe("open");
    h.clearPeers();
    h.clock += 5000;
    await h.publish(alice, "open", { show: "away" });
    await h.drain();
    expect(h.seen(bob)).toEqual([]); // an invisible watcher is not even told that something changed
    expect(h.seen(erin, alice)).toHaveLength(1);
  });

  it("T-5.2.4 T-5.3.3 T-5.1.1 presence about bob from another network or domain is dropped and logged", async () => {
    await h.subscribe(dave, bob);
    await h.publish(bob, "open", { note: "real" });
    const forged = await h.publish(bob, "closed", { source: "xmpp", version: 1e12 });
    const spoofed = await h.publish({ address: bob.address, network: alice.network }, "closed", { source: "xmpp", version: 1e12 });
    expect(forged).toMatchObject({ status: "refused", error: { code: "PARLEY_NOT_AUTHENTICATED" } });
    expect(spoofed).toMatchObject({ status: "refused", error: { code: "PARLEY_NOT_AUTHENTICATED" } });
    await h.drain();
    expect(h.seen(dave, bob).map((p) => p.tuples[0]!.note)).toEqual([{ en: "real" }]);
  });

  it("T-5.3.1 presence the gateway synthesises is marked provenance=gateway; the origin's is origin", async () => {
    await h.subscribe(bob, alice);
    await h.publish(alice, "open");
    await h.drain();
    expect(h.seen(bob, alice)[0]!.provenance.source).toBe("origin");
    h.clock += 120_000;
    await h.service.markStale();
    await h.drain();
    expect(h.seen(bob, alice).at(-1)!.provenance).toEqual({ source: "gateway", reason: "liveness-timeout" });
  });

  it("T-5.3.2 a watcher is sent changes only of presentities it subscribed to", async () => {
    await h.subscribe(dave, alice);
    await h.publish(bob, "open");
    await h.publish(alice, "open");
    await h.drain();
    expect(h.seen(dave).map((p) => p.presentity.address)).toEqual([alice.address]);
  });

  it("T-2.4.2 a notification relayed through the gateway names the original presentity, not the gateway", async () => {
    await h.subscribe(dave, bob);
    await h.publish(bob, "open");
    await h.drain();
    expect(h.seen(dave).map((p) => p.presentity)).toEqual([bob]);
  });

  it("T-5.1.4 what the presentity disclosed arrives unaltered: extensions (e.g. a signed PIDF) pass through byte for byte", async () => {
    await h.subscribe(dave, bob);
    const signed = "<presence xmlns='urn:ietf:params:xml:ns:pidf' entity='pres:bob@matrix.example.org'>…</presence>\r\n--sig--";
    const p = h.presence(bob, "open", { note: "as sent" });
    await h.service.publish({ kind: "presence", presence: { ...p, extensions: { "urn:ietf:params:xml:ns:pidf": { payload: signed, mustUnderstand: false } } }, authenticatedBy: { method: "network" } }, bob.network);
    await h.drain();
    const [got] = h.seen(dave, bob);
    expect(got!.extensions["urn:ietf:params:xml:ns:pidf"]!.payload).toBe(signed);
    expect(got!.tuples[0]!.note).toEqual({ en: "as sent" });
    expect(got!.provenance.source).toBe("origin");
  });

  it("T-2.1.2 a mailbox has no presence: none is stored or invented, and it cannot watch", async () => {
    expect(await h.publish(carol, "open")).toMatchObject({ status: "refused", error: { code: "PARLEY_UNSUPPORTED" } });
    expect(await h.service.presenceFor(dave, carol)).toBeUndefined();
    expect(await h.act("request", carol, alice)).toMatchObject({ status: "refused", error: { code: "PARLEY_UNSUPPORTED" } });
    expect((await h.admin.showPresence("carol@example.org")).presence).toBeNull();
  });

  it("T-2.1.1 presence can be switched off for a domain while the rest keeps working", async () => {
    const off = new PresenceHarness({ domainPolicy: { presence: false } });
    try {
      expect(await off.publish(alice, "open")).toMatchObject({ status: "refused", error: { code: "PARLEY_DISABLED" } });
      expect(await off.service.parts.policy.mayMessage(bob, alice)).toEqual({ allowed: true });
    } finally {
      await off.close();
    }
  });
});
