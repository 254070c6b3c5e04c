/** Out of contact, vanished sessions and restarts (RFC 2779 3.2.1, 3.2.4, 3.2.5) on the real Redis. */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PresenceHarness, alice, bob, dave, erin } from "./support/harness.js";

let h: PresenceHarness;
beforeEach(() => { h = new PresenceHarness({ livenessTimeoutMs: 60_000 }); });
afterEach(async () => { await h.close(); });

describe("liveness (RFC 2779 §3.2)", () => {
  it("T-3.2.1 a fetch while the presentity is out of contact answers CLOSED with the last time, at once", async () => {
    await h.subscribe(bob, alice);
    await h.publish(alice, "open", { resource: "phone" });
    await h.publish(alice, "open", { resource: "laptop" });
    h.clock += 1000;
    await h.publish(alice, "closed", { resource: "phone" });
    h.clock += 1000;
    const last = new Date(h.clock).toISOString();
    await h.publish(alice, "closed", { resource: "laptop" });
    const started = Date.now();
    const answer = await h.service.presenceFor(bob, alice);
    expect(Date.now() - started).toBeLessThan(500);
    expect(answer?.tuples).toEqual([expect.objectContaining({ id: "laptop", basic: "closed", timestamp: last })]);
    expect((await h.admin.showPresence("alice@chat.example.org")).lastSeen).toBe(last);
  });

  it("T-3.2.4 a presentity whose sessions vanish without goodbye goes CLOSED after the timeout, and watchers are told", async () => {
    await h.subscribe(bob, alice);
    await h.subscribe(dave, erin);
    await h.publish(alice, "open");
    await h.publish(erin, "open");
    await h.drain();
    h.clearPeers();
    h.clock += 30_000;
    await h.service.touch([erin]); // erin's network still vouches for her
    expect(await h.service.markStale()).toBe(0);
    h.clock += 31_000;
    expect(await h.service.markStale()).toBe(1);
    await h.drain();
    expect(h.seen(bob, alice).map((p) => p.tuples[0]!.basic)).toEqual(["closed"]);
    expect(h.seen(dave, erin)).toEqual([]);
    h.clock += 60_000;
    expect(await h.service.markStale()).toBe(1);
    // Coming back works as usual: the next update from alice's network is newer than anything before.
    await h.publish(alice, "open");
    await h.drain();
    expect(h.seen(bob, alice).at(-1)?.tuples[0]?.basic).toBe("open");
  });

  it("T-3.2.4 re-sending the same state keeps a session alive without notifying anyone", async () => {
    await h.subscribe(bob, alice);
    await h.publish(alice, "open", { note: "here" });
    await h.drain();
    h.clearPeers();
    for (let i = 0; i < 3; i++) {
      h.clock += 50_000;
      expect(await h.publish(alice, "open", { note: "here" })).toEqual({ status: "accepted" });
      expect(await h.service.markStale()).toBe(0);
    }
    h.clock += 2000;
    await h.service.tick();
    await h.drain();
    expect(h.seen(bob)).toEqual([]);
    h.clock += 61_000;
    expect(await h.service.markStale()).toBe(1);
  });

  it("T-3.2.4 while a network's link is up its own servers report goodbyes; once the link is down its presentities time out", async () => {
    const links: Record<string, boolean | undefined> = { xmpp: true, matrix: undefined };
    const l = new PresenceHarness({ livenessTimeoutMs: 60_000, linkReady: (n) => links[n] });
    try {
      await l.subscribe(bob, alice);
      await l.subscribe(dave, erin);
      await l.publish(alice, "open");
      await l.publish(erin, "open");
      l.clock += 61_000;
      expect(await l.service.markStale()).toBe(0); // xmpp heard, matrix not known here: nobody closed
      links.xmpp = false;
      links.matrix = false;
      l.clock += 30_000;
      expect(await l.service.markStale()).toBe(0); // deadlines moved on when they were vouched for
      l.clock += 31_000;
      expect(await l.service.markStale()).toBe(2);
      expect((await l.admin.showPresence("alice@chat.example.org")).open).toBe(false);
    } finally {
      await l.close();
    }
  });

  it("T-3.2.5 after a crash, presentities without a live session are reconciled to CLOSED on startup", async () => {
    await h.subscribe(dave, bob);
    await h.subscribe(dave, erin);
    await h.publish(bob, "open");
    await h.publish(erin, "open");
    await h.drain();
    h.clearPeers();
    h.restart(); // the process died without saying goodbye for anyone
    expect(await h.service.reconcileOnStartup([erin])).toBe(1);
    h.clock += 1000; // the change fell inside bob's fan-out interval: it goes out when due
    expect(await h.service.tick()).toEqual({ fanouts: 1, closed: 0 });
    await h.drain();
    expect((await h.admin.showPresence("bob@matrix.example.org")).open).toBe(false);
    expect((await h.admin.showPresence("erin@matrix.example.org")).open).toBe(true);
    expect(h.seen(dave, bob).map((p) => [p.tuples[0]!.basic, p.provenance.source])).toEqual([["closed", "gateway"]]);
    expect(await h.service.reconcileOnStartup([erin])).toBe(0);
  });

  it("the timers run on their own once started, and stop", async () => {
    await h.subscribe(bob, alice);
    await h.publish(alice, "open");
    h.clock += 120_000;
    h.service.start();
    const until = Date.now() + 5000;
    while ((await h.admin.showPresence("alice@chat.example.org")).open && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    h.service.stop();
    expect((await h.admin.showPresence("alice@chat.example.org")).open).toBe(false);
  });
});
