/**
 * Presence and subscriptions through the real Prosody (RFC 6121 §3, §4; RFC 2779 §5.1–5.3). The
 * adapter only translates; the decisions are scripted here in place of the core.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PresenceEvent, SubscriptionEvent } from "../../../src/model/events.js";
import { endpoint } from "../../../src/model/address.js";
import { PresenceSchema } from "../../../src/model/presence.js";
import type { XmppAdapter } from "../../../adapters/xmpp/index.js";
import type { FakeContext } from "../../support/fake-context.js";
import { connectUser, prosody, startAdapter, xml, type TestUser } from "./support.js";

describe("XMPP presence and subscriptions through Prosody", () => {
  let adapter: XmppAdapter;
  let ctx: FakeContext;
  let dave: TestUser;
  const puppet = endpoint("fred@matrix.test", "matrix");
  const at = () => new Date().toISOString();
  const daveEp = () => endpoint(`dave@${prosody().userDomain}`, "xmpp");

  beforeAll(async () => {
    ({ adapter, ctx } = await startAdapter(process.env.XMPP_DEBUG ? { ctx: { log: (await import("pino")).pino({ level: "debug" }) } } : {}));
    dave = await connectUser("dave", { resource: "desk" });
  });
  afterAll(async () => {
    await dave?.stop();
    await adapter?.stop();
  });

  it("T-5.1.2 T-5.1.4 T-5.1.9 subscribe / approve / unsubscribe round-trips (XMPP user watches a puppet)", async () => {
    await dave.send(xml("presence", { type: "subscribe", to: "fred@matrix.test" }));
    const req = await ctx.waitForAccepted((e): e is SubscriptionEvent => e.kind === "subscription" && e.request.action === "request");
    expect(req.request).toMatchObject({ watcher: daveEp(), presentity: puppet, actor: daveEp() });
    // The core approves: the watcher hears `subscribed` from the puppet.
    await adapter.deliverSubscription({ to: daveEp(), notice: "outcome", subscription: { watcher: daveEp(), presentity: puppet, state: "approved", decidedBy: "presentity", at: at() } });
    await dave.inbox.next((s) => s.is("presence") && s.attrs.type === "subscribed" && s.attrs.from === "fred@matrix.test");
    // A puppet's presence change reaches the subscribed user, per tuple with show, status per language and priority.
    await adapter.deliverPresence({ watcher: daveEp(), presence: PresenceSchema.parse({
      presentity: puppet, version: 1, provenance: { source: "origin" },
      tuples: [{ id: "phone", basic: "open", show: "away", note: { en: "lunch", fr: "déjeuner" }, priority: 5, timestamp: at() }],
    }) });
    const p = await dave.inbox.next((s) => s.is("presence") && s.attrs.from === "fred@matrix.test/phone" && s.attrs.type === undefined);
    expect(p.getChildText("show")).toBe("away");
    expect(p.getChildren("status").map((s) => [s.attrs["xml:lang"], s.text()])).toEqual([["en", "lunch"], ["fr", "déjeuner"]]);
    expect(p.getChildText("priority")).toBe("5");
    await adapter.deliverPresence({ watcher: daveEp(), presence: PresenceSchema.parse({
      presentity: puppet, version: 2, provenance: { source: "origin" }, tuples: [{ id: "phone", basic: "closed", timestamp: at() }],
    }) });
    await dave.inbox.next((s) => s.is("presence") && s.attrs.from === "fred@matrix.test/phone" && s.attrs.type === "unavailable");
    // A resource that vanishes from the tuples goes unavailable by its own full JID.
    const two = (ids: string[]) => PresenceSchema.parse({ presentity: puppet, version: 3, provenance: { source: "origin" }, tuples: ids.map((id) => ({ id, basic: "open", timestamp: at() })) });
    await adapter.deliverPresence({ watcher: daveEp(), presence: two(["a", "b"]) });
    await dave.inbox.next((s) => s.is("presence") && s.attrs.from === "fred@matrix.test/b" && s.attrs.type === undefined);
    await adapter.deliverPresence({ watcher: daveEp(), presence: two(["a"]) });
    await dave.inbox.next((s) => s.is("presence") && s.attrs.from === "fred@matrix.test/b" && s.attrs.type === "unavailable");
    await adapter.deliverPresence({ watcher: daveEp(), presence: two([]) });
    await dave.inbox.next((s) => s.is("presence") && s.attrs.from === "fred@matrix.test/a" && s.attrs.type === "unavailable");
    await dave.send(xml("presence", { type: "unsubscribe", to: "fred@matrix.test" }));
    const cancel = await ctx.waitForAccepted((e): e is SubscriptionEvent => e.kind === "subscription" && e.request.action === "cancel");
    expect(cancel.request).toMatchObject({ watcher: daveEp(), presentity: puppet });
  });

  it("T-5.1.3 T-5.1.5 T-5.1.16 a puppet watching an XMPP user: request, approval, presence to the core, revocation", async () => {
    await adapter.deliverSubscription({ to: daveEp(), notice: "request", subscription: { watcher: puppet, presentity: daveEp(), state: "pending", at: at() } });
    await dave.inbox.next((s) => s.is("presence") && s.attrs.type === "subscribe" && s.attrs.from === "fred@matrix.test");
    await dave.send(xml("presence", { type: "subscribed", to: "fred@matrix.test" }));
    const ok = await ctx.waitForAccepted((e): e is SubscriptionEvent => e.kind === "subscription" && e.request.action === "approve");
    expect(ok.request).toMatchObject({ watcher: puppet, presentity: daveEp(), actor: daveEp() });
    // T-3.1.1: the XMPP user's presence reaches the core (Prosody sends it to the new subscriber).
    ctx.accepted.length = 0;
    await dave.send(xml("presence", { "xml:lang": "en" }, xml("show", {}, "dnd"), xml("status", {}, "busy"), xml("status", { "xml:lang": "de" }, "beschäftigt"), xml("priority", {}, "-3")));
    const pe = await ctx.waitForAccepted((e): e is PresenceEvent => e.kind === "presence" && e.presence.tuples.some((t) => t.show === "dnd"));
    expect(pe.presence.presentity).toEqual(daveEp());
    expect(pe.presence.tuples).toHaveLength(1);
    expect(pe.presence.tuples[0]).toMatchObject({ id: "desk", basic: "open", show: "dnd", note: { en: "busy", de: "beschäftigt" }, priority: -3 });
    expect(pe.authenticatedBy.method).toBe("network");
    // Per-resource tuples: a second resource joins, then leaves.
    const dave2 = await connectUser("dave", { resource: "mobile" });
    try {
      await ctx.waitForAccepted((e): e is PresenceEvent => e.kind === "presence" && e.presence.tuples.length === 2);
      ctx.accepted.length = 0;
      await dave2.stop();
      const after = await ctx.waitForAccepted((e): e is PresenceEvent => e.kind === "presence");
      expect(after.presence.tuples.map((t) => t.id)).toEqual(["desk"]);
    } finally {
      await dave2.stop();
    }
    ctx.subscriptions.push({ watcher: puppet, presentity: daveEp(), state: "approved", at: at() });
    await dave.send(xml("presence", { type: "unsubscribed", to: "fred@matrix.test" }));
    const revoke = await ctx.waitForAccepted((e): e is SubscriptionEvent => e.kind === "subscription" && e.request.action === "revoke");
    expect(revoke.request).toMatchObject({ watcher: puppet, presentity: daveEp() });
  });

  it("T-3.2.1 a probe (Prosody probes on each login) is answered from the presence store", async () => {
    // dave's roster now has fred with subscription 'to'? Make it so, then a new login probes fred.
    ctx.accepted.length = 0;
    await dave.send(xml("presence", { type: "subscribe", to: "fred@matrix.test" }));
    // Approve only once the request went through Prosody (its roster must hold the pending ask).
    await ctx.waitForAccepted((e): e is SubscriptionEvent => e.kind === "subscription" && e.request.action === "request");
    await adapter.deliverSubscription({ to: daveEp(), notice: "outcome", subscription: { watcher: daveEp(), presentity: puppet, state: "approved", at: at() } });
    await dave.inbox.next((s) => s.is("presence") && s.attrs.type === "subscribed", 10_000, "subscribed again");
    ctx.presences.set("matrix/fred@matrix.test", PresenceSchema.parse({
      presentity: puppet, version: 5, provenance: { source: "origin" }, tuples: [{ id: "web", basic: "open", show: "chat", timestamp: at() }],
    }));
    const dave3 = await connectUser("dave", { resource: "probe" });
    try {
      const p = await dave3.inbox.next((s) => s.is("presence") && s.attrs.from === "fred@matrix.test/web", 10_000, "probe answer");
      expect(p.getChildText("show")).toBe("chat");
    } finally {
      await dave3.stop();
    }
  });

  it("restores puppet presence after the link comes back", async () => {
    const before = ctx.presences.get("matrix/fred@matrix.test");
    expect(before).toBeDefined();
    adapter.link!.inject("matrix.test", "</stream:stream>");
    await dave.inbox.next((s) => s.is("presence") && s.attrs.from === "fred@matrix.test/web" && s.attrs.type === undefined, 15_000, "restored presence");
  });

  it("XEP-0100 habit: on shutdown every bridged puppet goes unavailable", async () => {
    await adapter.stop();
    await dave.inbox.next((s) => s.is("presence") && s.attrs.from === "fred@matrix.test" && s.attrs.type === "unavailable");
    expect(adapter.health().ready).toBe(false);
  });
});
