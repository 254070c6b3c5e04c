/**
 * RFC 2779 access rules with real XMPP clients through the real gateway (real Prosody, Redis,
 * BullMQ, presence service): one presentity on the other network (the test double "matrix"),
 * oscar@matrix.test, whose access rules give each XMPP watcher a different view:
 *   ivan    full view          judy    OPEN/CLOSED only        trent   politely blocked
 *   mallory blocked from subscribing
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { asNetworkId, endpoint } from "../../../src/model/address.js";
import { PresenceSchema } from "../../../src/model/presence.js";
import { PresenceAdmin } from "../../../src/presence/index.js";
import { connectUser, prosody, xml, type Stanza, type TestUser } from "./support.js";
import { startXmppGateway, type XmppGateway } from "./gateway-support.js";
import { until } from "../../support/until.js";

const MATRIX = asNetworkId("matrix");
const OSCAR = "oscar@matrix.test";
const oscar = endpoint(OSCAR, "matrix");
const at = () => new Date().toISOString();
const fromOscar = (s: Stanza) => s.is("presence") && String(s.attrs.from ?? "").split("/")[0] === OSCAR;

let x: XmppGateway;
const users: Record<string, TestUser> = {};
const ep = (name: string) => endpoint(`${name}@${prosody().userDomain}`, "xmpp");

async function approve(name: string): Promise<void> {
  const watcher = ep(name);
  await until(`${name}'s request at the other network`, () => x.matrix.peer.subscriptions.find((n) => n.notice === "request" && n.subscription.watcher.address === watcher.address));
  await x.gw.gateway.accept(MATRIX, [{ kind: "subscription", request: { action: "approve", watcher, presentity: oscar, actor: oscar, authenticatedBy: { method: "network" }, at: at() } }]);
}

async function publish(version: number, basic: "open" | "closed", note?: string): Promise<void> {
  const [r] = await x.gw.gateway.accept(MATRIX, [{ kind: "presence", authenticatedBy: { method: "network" }, presence: PresenceSchema.parse({
    presentity: oscar, version, provenance: { source: "origin" },
    tuples: [{ id: "desk", basic, ...(basic === "open" ? { show: "chat" } : {}), ...(note ? { note: { en: note } } : {}), timestamp: at() }],
  }) }]);
  expect(r?.status).toBe("accepted");
}

beforeAll(async () => {
  x = await startXmppGateway(prosody());
  const u = prosody().userDomain;
  await new PresenceAdmin(x.gw.presence).setAccessRules(`matrix/${OSCAR}`, {
    subscribe: "approval",
    visibility: { [`judy@${u}`]: "basic" },
    blockSubscribers: [`mallory@${u}`],
    politelyBlocked: [`trent@${u}`],
  }, "rfc2779-access test");
  for (const name of ["ivan", "judy", "trent", "mallory"]) users[name] = await connectUser(name, { resource: "acl" });
});

afterAll(async () => {
  for (const u of Object.values(users)) await u.stop().catch(() => undefined);
  await x?.gw.destroy();
});

describe("RFC 2779 access rules, real XMPP clients through the gateway", () => {
  it("T-2.3.2 T-5.1.11 T-5.1.13 T-5.1.15 approved watchers are told so; a blocked one gets no answer and leaves no record; a politely blocked one is told 'subscribed'", async () => {
    for (const name of ["ivan", "judy", "trent", "mallory"]) await users[name]!.send(xml("presence", { type: "subscribe", to: OSCAR }));
    await approve("ivan");
    await approve("judy");
    for (const name of ["ivan", "judy", "trent"]) {
      await users[name]!.inbox.next((s) => fromOscar(s) && s.attrs.type === "subscribed", 15_000, `subscribed for ${name}`);
    }
    const watchers = await x.gw.presence.subscriptionsOf(oscar, "watchers");
    expect(watchers.find((s) => s.watcher.address === ep("mallory").address)).toBeUndefined();
    expect(x.matrix.peer.subscriptions.some((n) => n.subscription.watcher.address === ep("trent").address || n.subscription.watcher.address === ep("mallory").address)).toBe(false);
    // The presentity's side can list who watches (5.1.11): the approved ones, in their state.
    expect(watchers.filter((s) => s.state === "approved").map((s) => s.watcher.address).sort()).toEqual([ep("ivan").address, ep("judy").address]);
  });

  it("T-2.3.1 T-2.3.3 T-5.2.3 T-3.2.3 one change reaches each watcher as its rules say: full, OPEN only, nothing for the blocked ones", async () => {
    await publish(10, "open", "in the office");
    const full = await users.ivan!.inbox.next((s) => fromOscar(s) && s.attrs.type === undefined, 15_000, "oscar's presence at ivan");
    expect(full.getChildText("status")).toBe("in the office");
    expect(full.getChildText("show")).toBe("chat");
    const basic = await users.judy!.inbox.next((s) => fromOscar(s) && s.attrs.type === undefined, 15_000, "oscar's presence at judy");
    expect(basic.getChildText("status")).toBeNull();
    expect(basic.getChildText("show")).toBeNull();
    // The fetch path gives judy the same view as the push (one projection for both).
    const fetched = await x.gw.presence.presenceFor(ep("judy"), oscar);
    expect(fetched?.tuples.every((t) => t.note === undefined && t.show === undefined)).toBe(true);
    // A marker after the change: once ivan has it, anything for trent and mallory would have come too.
    await publish(11, "open", "marker");
    await users.ivan!.inbox.next((s) => fromOscar(s) && s.getChildText("status") === "marker", 15_000, "the marker at ivan");
    for (const name of ["trent", "mallory"]) {
      const open = users[name]!.inbox.seen.filter((s) => fromOscar(s) && s.attrs.type === undefined);
      expect(open, `${name} must never see oscar available`).toEqual([]);
    }
  });

  it("T-3.2.1 T-2.3.3 at a new login, Prosody's probe is answered from the store with the watcher's own view", async () => {
    await users.judy!.stop();
    users.judy = await connectUser("judy", { resource: "again" });
    const probed = await users.judy.inbox.next((s) => fromOscar(s) && s.attrs.type === undefined, 15_000, "oscar's presence after judy's login");
    expect(probed.getChildText("status")).toBeNull();
    await users.trent!.stop();
    users.trent = await connectUser("trent", { resource: "again" });
    await users.ivan!.stop();
    users.ivan = await connectUser("ivan", { resource: "again" });
    await users.ivan.inbox.next((s) => fromOscar(s) && s.getChildText("status") === "marker", 15_000, "oscar's presence after ivan's login");
    expect(users.trent.inbox.seen.filter((s) => fromOscar(s) && s.attrs.type === undefined)).toEqual([]);
  });

  it("T-5.1.7 after a watcher unsubscribes, the service sends it nothing new", async () => {
    const judy = ep("judy");
    await users.judy!.send(xml("presence", { type: "unsubscribe", to: OSCAR }));
    await until("judy's subscription cancelled in the core", async () => {
      const subs = await x.gw.presence.subscriptionsOf(oscar, "watchers");
      return subs.some((s) => s.watcher.address === judy.address && s.state === "approved") ? undefined : true;
    });
    const seenBefore = users.judy!.inbox.seen.length;
    await publish(12, "open", "after judy left");
    await users.ivan!.inbox.next((s) => fromOscar(s) && s.getChildText("status") === "after judy left", 15_000, "the change at ivan");
    const later = users.judy!.inbox.seen.slice(seenBefore).filter((s) => fromOscar(s) && s.attrs.type === undefined);
    expect(later).toEqual([]);
  });

  it("T-3.2.4 T-3.2.5 a watched XMPP user whose client vanishes without a goodbye goes CLOSED for its watchers", async () => {
    const ivan = ep("ivan");
    await x.gw.gateway.accept(MATRIX, [{ kind: "subscription", request: { action: "request", watcher: oscar, presentity: ivan, actor: oscar, authenticatedBy: { method: "network" }, at: at() } }]);
    await users.ivan!.inbox.next((s) => fromOscar(s) && s.attrs.type === "subscribe", 15_000, "oscar's subscribe at ivan");
    await users.ivan!.send(xml("presence", { type: "subscribed", to: OSCAR }));
    await users.ivan!.send(xml("presence", {}, xml("status", {}, "here")));
    await until("ivan open at oscar's network", () => x.matrix.peer.presences.find((n) => n.presence.presentity.address === ivan.address && n.presence.tuples.some((t) => t.basic === "open")));
    // Kill the TCP connection: no unavailable presence is sent by the client.
    (users.ivan!.xmpp as unknown as { socket: { destroy(): void } }).socket.destroy();
    const closed = await until("ivan closed at oscar's network", () => x.matrix.peer.presences.find((n) => n.presence.presentity.address === ivan.address && n.presence.tuples.every((t) => t.basic === "closed")), 30_000);
    expect(closed.watcher).toEqual(oscar);
  });

  // Last: it restarts the gateway.
  it("T-3.2.2 a request to an offline XMPP user survives a gateway restart, reaches her at login, and her approval completes it", async () => {
    const quinn = endpoint("quinn@matrix.test", "matrix");
    const carol = ep("carol");
    const [r] = await x.gw.gateway.accept(MATRIX, [{ kind: "subscription", request: { action: "request", watcher: quinn, presentity: carol, actor: quinn, authenticatedBy: { method: "network" }, at: at() } }]);
    expect(r?.status).toBe("accepted");
    const prefix = x.gw.prefix;
    await x.gw.stop(); // keys kept: a restart, not a wipe
    x = await startXmppGateway(prosody(), { prefix });
    users.carol = await connectUser("carol", { resource: "login" });
    await users.carol.inbox.next((s) => s.is("presence") && s.attrs.type === "subscribe" && s.attrs.from === "quinn@matrix.test", 15_000, "quinn's request at carol's login");
    await users.carol.send(xml("presence", { type: "subscribed", to: "quinn@matrix.test" }));
    await until("approved in the core", async () => (await x.gw.presence.subscriptionsOf(carol, "watchers")).find((s) => s.watcher.address === quinn.address && s.state === "approved"));
  });
});
