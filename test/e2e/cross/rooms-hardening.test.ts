/**
 * Issue 12, linked rooms with real Prosody (mod_muc) and real Synapse:
 * - a semi-anonymous MUC room (whois = moderators): occupants' messages are bridged from the
 *   occupant JID (`room@service/nick` → its own puppet), and Parley's own occupants, whose real JIDs
 *   the room hides too, are still never bridged back;
 * - a Matrix room that kicks Parley's puppet: it is not forced back in, the XMPP member is told in
 *   XMPP's form until a room member invites the puppet again; a puppet muted by power levels
 *   (`events_default` above its level) gets its member told, not a silent loss;
 * - the MUC room's owner kicks Parley's listener, then destroys the room: the admin sees the room
 *   in `/readyz` detail (still 200) and in `/metrics`; a later message brings the listener back
 *   (cleared), and after the destroy no join makes the room again.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { Preset, Visibility } from "matrix-js-sdk";
import { endpoint, canonicalAddress, asNetworkId } from "../../../src/model/address.js";
import { linkedRoomKey } from "../../../src/model/room.js";
import { RoomDirectory } from "../../../src/mappings/room-directory.js";
import { occupantEndpoint } from "../../../adapters/xmpp/muc/inbound.js";
import type { TestGateway } from "../../support/gateway.js";
import { connectUser, xml, LogCapture, type TestUser, type Stanza } from "../xmpp/support.js";
import { startUser, uniqueName, type TestMatrixUser } from "../../harness/synapse/clients.js";
import { mtaCoordinates } from "../../harness/mta/inject.js";
import { crossFactories, startCrossGateway } from "./gateway.js";

const SLOT = 19;
const prosody = inject("prosody");
const synapse = inject("synapse");
const STAMP = Date.now().toString(36);
const ANON = `anon-${STAMP}@conference.${prosody.userDomain}`;
const MODR = `kick-${STAMP}@conference.${prosody.userDomain}`;
const NS_MUC = "http://jabber.org/protocol/muc";
const logs = new LogCapture();
const ADMIN_TOKEN = "rooms-hardening-admin-token";

let gw: TestGateway;
let alice: TestUser;
let bob: TestMatrixUser;
let anonRoom: string;
let kickRoom: string;
let components: string[];
let puppetOf: (net: "xmpp" | "matrix", address: string, home: "xmpp" | "matrix") => string;

const groupchat = (body: string) => (s: Stanza) => s.name === "message" && s.attrs.type === "groupchat" && s.getChildText("body") === body;
/** A chat message from one of Parley's component domains (the room itself cannot be its sender). */
const told = (text: string) => (s: Stanza) => s.name === "message" && s.attrs.type === "chat" && components.includes(s.attrs.from ?? "") && (s.getChildText("body") ?? "").includes(text);
const bobLocal = () => bob.userId.slice(1, bob.userId.indexOf(":"));

async function enterMuc(room: string): Promise<void> {
  await alice.send(xml("presence", { to: `${room}/alice` }, xml("x", { xmlns: NS_MUC })));
  await alice.inbox.next((s) => s.name === "presence" && s.attrs.from === `${room}/alice` && s.attrs.type !== "error", 10_000, `alice in ${room}`);
}

beforeAll(async () => {
  alice = await connectUser("alice", { resource: "rooms-hardening" });
  await enterMuc(ANON);
  await enterMuc(MODR);
  // The owner makes the room semi-anonymous: only moderators see real JIDs (XEP-0045 §10.2).
  await alice.xmpp.iqCaller.request(xml("iq", { type: "set", to: ANON },
    xml("query", { xmlns: `${NS_MUC}#owner` }, xml("x", { xmlns: "jabber:x:data", type: "submit" },
      xml("field", { var: "FORM_TYPE" }, xml("value", {}, `${NS_MUC}#roomconfig`)),
      xml("field", { var: "muc#roomconfig_whois" }, xml("value", {}, "moderators"))))));
  bob = await startUser(synapse.baseUrl, synapse.registrationSharedSecret, uniqueName("bob"));
  ({ room_id: anonRoom } = await bob.client.createRoom({ preset: Preset.PublicChat, visibility: Visibility.Private, name: "anon" }));
  ({ room_id: kickRoom } = await bob.client.createRoom({ preset: Preset.PublicChat, visibility: Visibility.Private, name: "kick" }));
  const [xmpp, matrix] = [asNetworkId("xmpp"), asNetworkId("matrix")];
  const link = (name: string, muc: string, room: string) => ({
    key: linkedRoomKey(name), origin: "linked" as const, name, home: xmpp, address: canonicalAddress(muc),
    natives: new Map([[xmpp, { network: xmpp, id: muc }], [matrix, { network: matrix, id: room }]]), source: { file: "<test>", line: 0 },
  });
  const started = await startCrossGateway({ prosody, synapse, mta: mtaCoordinates() }, SLOT, logs.logger, undefined, {}, (m) => ({ ...m, rooms: new RoomDirectory([link(`anon${STAMP}`, ANON, anonRoom), link(`kick${STAMP}`, MODR, kickRoom)]) }), undefined, { token: ADMIN_TOKEN });
  gw = started.gw;
  const f = crossFactories();
  puppetOf = (net, address, home) => f[net].addressing.toNative(endpoint(address, home), started.mappings);
  components = ["matrix.gw.test", "email.gw.test"]; // crossMappings' shared component domains
  for (const muc of [ANON, MODR]) await alice.inbox.next((s) => s.name === "presence" && s.attrs.from === `${muc}/parley-bridge`, 30_000, `the listener in ${muc}`);
}, 120_000);

afterAll(async () => {
  bob?.stop();
  await alice?.stop();
  await gw?.destroy();
});

describe("issue 12: a semi-anonymous MUC room is bridged from the occupant JID", () => {
  it("an occupant's message reaches Matrix from the puppet of room/nick; a Matrix member's reaches the MUC, and Parley's own occupant is not bridged back", async () => {
    const occupant = occupantEndpoint(ANON, "alice")!;
    expect(occupant.address).toBe(`anon-${STAMP}\\2falice@conference.${prosody.userDomain}`);
    await alice.send(xml("message", { to: ANON, type: "groupchat", id: "a1" }, xml("body", {}, "hello from an anonymous room")));
    const ev = await bob.waitForMessage("hello from an anonymous room", undefined, 30_000);
    expect(ev.getRoomId()).toBe(anonRoom);
    expect(ev.getSender()).toBe(puppetOf("matrix", occupant.address, "xmpp"));

    await bob.say(anonRoom, { msgtype: "m.text", body: "to the anonymous room" });
    const got = await alice.inbox.next(groupchat("to the anonymous room"), 30_000, "bob's groupchat");
    expect(got.attrs.from).toBe(`${ANON}/${bobLocal()}`);
    await alice.send(xml("message", { to: ANON, type: "groupchat", id: "a2" }, xml("body", {}, "anonymous sentinel")));
    await bob.waitForMessage("anonymous sentinel", undefined, 30_000);
    // Bob's puppet occupant (its real JID hidden like everyone's) came back neither as a member nor as a message.
    const bobsOccupantPuppet = puppetOf("matrix", occupantEndpoint(ANON, bobLocal())!.address, "xmpp");
    expect(bob.events.filter((e) => e.getRoomId() === anonRoom && (e.getSender() === bobsOccupantPuppet || e.getStateKey() === bobsOccupantPuppet))).toHaveLength(0);
    expect(bob.events.filter((e) => e.getRoomId() === anonRoom && e.getContent().body === "to the anonymous room")).toHaveLength(1);
  });
});

describe("issue 12: kicks and power levels of the Matrix room are respected", () => {
  it("a puppet kicked from the Matrix room is not forced back in: the XMPP member is told, until a member invites the puppet again", async () => {
    const puppet = puppetOf("matrix", alice.bare, "xmpp");
    await alice.send(xml("message", { to: MODR, type: "groupchat", id: "k1" }, xml("body", {}, "before the kick")));
    expect((await bob.waitForMessage("before the kick", undefined, 30_000)).getSender()).toBe(puppet);
    await bob.client.kick(kickRoom, puppet, "no bridging here");
    await expect.poll(() => logs.lines.some((l) => l.msg === "a room member removed one of Parley's users: not joined again until invited" && l.user === puppet), { timeout: 30_000 }).toBe(true);

    await alice.send(xml("message", { to: MODR, type: "groupchat", id: "k2" }, xml("body", {}, "after the kick")));
    const notice = await alice.inbox.next(told("kicked from the Matrix room"), 30_000, "alice told she no longer reaches the room");
    expect(notice.getChildText("body")).toContain("no bridging here");
    expect(notice.getChildText("body")).toContain(MODR);
    const isKick = (e: (typeof bob.events)[number]) => e.getRoomId() === kickRoom && e.getStateKey() === puppet && e.getContent().membership === "leave";
    await bob.waitForEvent(isKick, 30_000, "the kick in bob's timeline");
    const kick = bob.events.findIndex(isKick);
    expect(bob.events.slice(kick).filter((e) => e.getRoomId() === kickRoom && e.getStateKey() === puppet && e.getContent().membership === "join")).toHaveLength(0);
    expect(bob.events.filter((e) => e.getContent().body === "after the kick")).toHaveLength(0);

    await bob.client.invite(kickRoom, puppet);
    await expect.poll(async () => {
      await alice.send(xml("message", { to: MODR, type: "groupchat" }, xml("body", {}, "invited back")));
      return bob.events.some((e) => e.getRoomId() === kickRoom && e.getContent().body === "invited back" && e.getSender() === puppet);
    }, { timeout: 30_000, interval: 2_000 }).toBe(true);
  });

  it("a puppet muted by power levels (events_default above its level): the XMPP member is told, nothing is lost in silence", async () => {
    const levels = (await bob.client.getStateEvent(kickRoom, "m.room.power_levels", "")) as Record<string, unknown>;
    await bob.client.sendStateEvent(kickRoom, "m.room.power_levels" as never, { ...levels, events_default: 50 } as never, "");
    await alice.send(xml("message", { to: MODR, type: "groupchat", id: "m1" }, xml("body", {}, "while muted")));
    const notice = await alice.inbox.next(told("Not delivered to the room"), 30_000, "alice told her message was refused");
    expect(notice.getChildText("body")).toContain(MODR);
    expect(bob.events.filter((e) => e.getContent().body === "while muted")).toHaveLength(0);
  });
});

describe("issue 12 bad input, answered in the sender's own protocol", () => {
  it("an anonymous room's occupant with a nick too long for an address is told privately by Parley's listener; nothing is bridged", async () => {
    const carol = await connectUser("carol", { resource: "rooms-hardening" });
    try {
      const nick = `carol-${"n".repeat(300)}`;
      await carol.send(xml("presence", { to: `${ANON}/${nick}` }, xml("x", { xmlns: NS_MUC })));
      await carol.inbox.next((s) => s.name === "presence" && s.attrs.from === `${ANON}/${nick}` && s.attrs.type !== "error", 10_000, "carol in the room");
      await carol.send(xml("message", { to: ANON, type: "groupchat", id: "long1" }, xml("body", {}, "from a very long nick")));
      const pm = await carol.inbox.next((s) => s.name === "message" && s.attrs.type === "chat" && s.attrs.from === `${ANON}/parley-bridge`, 30_000, "the listener's private answer");
      expect(pm.getChildText("body")).toContain("too long");
      await alice.send(xml("message", { to: ANON, type: "groupchat", id: "long2" }, xml("body", {}, "long nick sentinel")));
      await bob.waitForMessage("long nick sentinel", undefined, 30_000);
      expect(bob.events.filter((e) => e.getContent().body === "from a very long nick")).toHaveLength(0);
    } finally {
      await carol.stop();
    }
  });

  it("a Matrix room that changes its join rules to invite-only: a new member is told while the bot may not invite, and gets in once it may", async () => {
    await bob.client.sendStateEvent(kickRoom, "m.room.join_rules" as never, { join_rule: "invite" } as never, "");
    const levels = (await bob.client.getStateEvent(kickRoom, "m.room.power_levels", "")) as { users?: Record<string, number>; invite?: number };
    await bob.client.sendStateEvent(kickRoom, "m.room.power_levels" as never, { ...levels, events_default: 0, invite: 50 } as never, "");
    const dave = await connectUser("dave", { resource: "rooms-hardening" });
    try {
      await dave.send(xml("presence", { to: `${MODR}/dave` }, xml("x", { xmlns: NS_MUC })));
      await dave.inbox.next((s) => s.name === "presence" && s.attrs.from === `${MODR}/dave` && s.attrs.type !== "error", 10_000, "dave in the room");
      await dave.send(xml("message", { to: MODR, type: "groupchat", id: "jr1" }, xml("body", {}, "while the bot may not invite")));
      const notice = await dave.inbox.next((s) => s.name === "message" && s.attrs.type === "chat" && (s.getChildText("body") ?? "").includes("Not delivered to the room"), 30_000, "dave told");
      expect(notice.getChildText("body")).toContain(MODR);
      // A Matrix admin lets the bridge bot invite: the next message brings dave's puppet in.
      const bot = `@${synapse.appservices[SLOT]!.botLocalpart}:${synapse.serverName}`;
      await bob.client.sendStateEvent(kickRoom, "m.room.power_levels" as never, { ...levels, events_default: 0, invite: 50, users: { ...levels.users, [bot]: 50 } } as never, "");
      await dave.send(xml("message", { to: MODR, type: "groupchat", id: "jr2" }, xml("body", {}, "after the join rules changed")));
      const ev = await bob.waitForMessage("after the join rules changed", undefined, 30_000);
      expect(ev.getSender()).toBe(puppetOf("matrix", dave.bare, "xmpp"));
      expect(bob.events.some((e) => e.getRoomId() === kickRoom && e.getStateKey() === ev.getSender() && e.getContent().membership === "invite")).toBe(true);
      expect(bob.events.filter((e) => e.getContent().body === "while the bot may not invite")).toHaveLength(0);
    } finally {
      await dave.stop();
    }
  });
});

describe("issue 12: a MUC room that removes Parley is shown to the admin", () => {
  type Check = { name: string; ready: boolean; detail: string; rooms?: { room: string; reason: string; detail: string }[] };
  const admin = async (path: string): Promise<Response> => {
    const { host, port } = gw.adminAddress()!;
    return fetch(`http://${host}:${port}${path}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  };
  const xmppCheck = async (): Promise<Check> => {
    const res = await admin("/readyz");
    const body = (await res.json()) as { checks: Check[] };
    return { ...body.checks.find((c) => c.name === "adapter.xmpp")!, ready: res.status === 200 };
  };
  const metric = async (line: RegExp): Promise<number | undefined> => {
    const text = await (await admin("/metrics")).text();
    const m = text.split("\n").find((l) => line.test(l));
    return m === undefined ? undefined : Number(m.split(" ").pop());
  };
  const NS_MUC_ADMIN = `${NS_MUC}#admin`;
  const NS_MUC_OWNER = `${NS_MUC}#owner`;

  it("the listener kicked, then the room destroyed: /readyz detail (still 200) and /metrics show it; a message brings the listener back, a destroyed room is not made again", async () => {
    await alice.xmpp.iqCaller.request(xml("iq", { type: "set", to: MODR }, xml("query", { xmlns: NS_MUC_ADMIN }, xml("item", { nick: "parley-bridge", role: "none" }, xml("reason", {}, "out with the bridge")))));
    await expect.poll(async () => (await xmppCheck()).rooms?.find((r) => r.room === MODR)?.reason, { timeout: 30_000 }).toBe("kicked");
    const kicked = await xmppCheck();
    expect(kicked.ready).toBe(true); // one bad room does not take the gateway out of a load balancer
    expect(kicked.detail).toContain(`room ${MODR}: Parley was kicked from the room: out with the bridge`);
    expect(await metric(/^parley_room_links_unhealthy\{network="xmpp"\}/)).toBe(1);
    expect(await metric(/^parley_room_link_failures_total\{network="xmpp",reason="kicked"\}/)).toBe(1);

    // The next message into the room brings the listener back: healthy again.
    await bob.say(kickRoom, { msgtype: "m.text", body: "after the listener was kicked" });
    await alice.inbox.next(groupchat("after the listener was kicked"), 30_000, "bob's message after the listener's kick");
    await expect.poll(async () => (await xmppCheck()).rooms?.some((r) => r.room === MODR) ?? false, { timeout: 30_000 }).toBe(false);
    expect(await metric(/^parley_room_links_unhealthy\{network="xmpp"\}/)).toBe(0);

    // The owner destroys the room (XEP-0045 §10.9).
    await alice.xmpp.iqCaller.request(xml("iq", { type: "set", to: MODR }, xml("query", { xmlns: NS_MUC_OWNER }, xml("destroy", {}, xml("reason", {}, "closing this room")))));
    await expect.poll(async () => (await xmppCheck()).rooms?.find((r) => r.room === MODR)?.reason, { timeout: 30_000 }).toBe("destroyed");
    expect((await xmppCheck()).detail).toContain(`room ${MODR}: the room was destroyed: closing this room`);
    expect(await metric(/^parley_room_link_failures_total\{network="xmpp",reason="destroyed"\}/)).toBe(1);
    expect(await metric(/^parley_room_links_unhealthy\{network="xmpp"\}/)).toBe(1);

    // A message for the destroyed room fails for good; the room is not made again by Parley's join.
    await bob.say(kickRoom, { msgtype: "m.text", body: "into the destroyed room" });
    // The sender is told in Matrix's form (the room delivery's failure report).
    const told = await bob.waitForMessage(`the XMPP room ${MODR} was destroyed`, undefined, 30_000);
    expect(told.getContent().body).toContain("Not delivered to");
    const info = await alice.xmpp.iqCaller.request(xml("iq", { type: "get", to: MODR }, xml("query", { xmlns: "http://jabber.org/protocol/disco#info" }))).then(() => "exists", () => "gone");
    expect(info).toBe("gone");
    expect((await xmppCheck()).rooms?.find((r) => r.room === MODR)?.reason).toBe("destroyed");
  });
});
