/**
 * Users' own block lists (src/presence/blocks.ts) on the real Redis: one canonical list per owner,
 * merged into the access rules every decision reads (RFC 2779 2.3.5, 5.1.15, 5.4.10).
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { UserBlocks } from "../../../src/presence/blocks.js";
import { CLOSED_VIEW_TIMESTAMP } from "../../../src/policy/project.js";
import { PresenceHarness, alice, bob, carol, dave, erin } from "./support/harness.js";

let h: PresenceHarness;
let blocks: UserBlocks;
beforeEach(() => {
  h = new PresenceHarness();
  blocks = new UserBlocks({ policy: h.service.parts.policy, delivery: h.delivery, log: h.service.parts.log });
});
afterEach(async () => { await h.close(); });

describe("a user's own blocks", () => {
  it("T-5.4.10 a blocked sender is refused with the neutral policy error from every network; unblock lifts it", async () => {
    await blocks.block(alice, [bob, carol]);
    for (const sender of [bob, carol]) {
      const v = await h.service.parts.policy.mayMessage(sender, alice);
      expect(v).toMatchObject({ allowed: false, error: { code: "PARLEY_REFUSED" } });
      expect(v.allowed ? "" : v.error.message).not.toMatch(/block/i);
    }
    expect(await h.service.parts.policy.mayMessage(dave, alice)).toEqual({ allowed: true });
    expect(await blocks.unblock(alice, [bob])).toEqual([carol]);
    expect(await h.service.parts.policy.mayMessage(bob, alice)).toEqual({ allowed: true });
    expect(await blocks.unblock(alice, "all")).toEqual([]);
    expect(await h.redis.get(h.service.parts.policy.rulesKey(alice))).toBeNull();
  });

  it("T-5.1.15 a blocked watcher is re-sent CLOSED at once and then hears nothing; the owner hears nothing from the one she blocked", async () => {
    await h.subscribe(bob, alice);
    await h.subscribe(alice, bob);
    await h.publish(alice, "open", { note: "here" });
    await h.publish(bob, "open", { note: "bob here" });
    await h.drain();
    h.clearPeers();
    await blocks.block(alice, [bob]);
    await h.drain();
    expect(h.seen(bob, alice).map((p) => [p.tuples[0]!.basic, p.tuples[0]!.timestamp])).toEqual([["closed", CLOSED_VIEW_TIMESTAMP]]);
    h.clearPeers();
    await h.publish(alice, "open", { note: "still here", version: 2 });
    await h.publish(bob, "open", { note: "bob again", version: 2 });
    await h.drain();
    expect(h.seen(bob, alice)).toEqual([]);
    expect(h.seen(alice, bob)).toEqual([]);
    expect(await h.service.presenceFor(alice, bob)).toBeUndefined();
  });

  it("T-5.1.15 a probe by the owner is not answered with the state of the one she blocked (XEP-0191 §3.3)", async () => {
    await h.subscribe(alice, bob);
    await h.subscribe(alice, erin);
    await h.publish(bob, "open", { note: "bob here" });
    await h.publish(erin, "open", { note: "erin here" });
    await h.drain();
    await blocks.block(alice, [bob]);
    await h.drain();
    h.clearPeers();
    await h.probe(alice, bob);
    await h.probe(alice, erin);
    await h.drain();
    expect(h.seen(alice, bob)).toEqual([]);
    expect(h.seen(alice, erin).map((p) => p.tuples[0]!.basic)).toEqual(["open"]);
  });

  it("the admin's rules stay in force: an admin override keeps the user's blocks, and an unblock cannot lift the admin's", async () => {
    await blocks.block(alice, [bob]);
    await h.admin.setAccessRules("alice@chat.example.org", { blockSenders: [dave.address] }, "test");
    expect(await blocks.list(alice)).toEqual([bob]);
    await blocks.unblock(alice, [dave]);
    expect(await h.service.parts.policy.mayMessage(dave, alice)).toMatchObject({ allowed: false });
    expect(await h.service.parts.policy.mayMessage(bob, alice)).toMatchObject({ allowed: false });
  });

  it("concurrent edits by the owner and the admin lose nothing", async () => {
    const others = Array.from({ length: 20 }, (_, i) => ({ ...bob, address: `u${i}@matrix.example.org` as typeof bob.address }));
    await Promise.all([
      ...others.map((o) => blocks.block(alice, [o])),
      h.admin.setAccessRules("alice@chat.example.org", { blockSenders: [dave.address] }, "test"),
    ]);
    expect((await blocks.list(alice)).map((e) => e.address).sort()).toEqual(others.map((o) => o.address).sort());
    expect(await h.service.parts.policy.mayMessage(dave, alice)).toMatchObject({ allowed: false });
  });
});
