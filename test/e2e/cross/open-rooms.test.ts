/**
 * Issue 12, open rooms with no admin step: a Matrix user (a real matrix-js-sdk client) joins a real
 * Prosody MUC room by its alias in Parley's namespace; the homeserver asks Parley's application
 * service about the alias, Parley creates the portal and joins the MUC, and the two talk, each
 * from the other's puppet. The open room is in Redis: a restarted gateway still bridges it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { endpoint } from "../../../src/model/address.js";
import { openRoomAlias } from "../../../adapters/matrix/rooms/open-alias.js";
import { testPrefix, type TestGateway } from "../../support/gateway.js";
import { connectUser, xml, LogCapture, type TestUser, type Stanza } from "../xmpp/support.js";
import { startUser, uniqueName, type TestMatrixUser } from "../../harness/synapse/clients.js";
import { mtaCoordinates } from "../../harness/mta/inject.js";
import { crossFactories, startCrossGateway, type Peers } from "./gateway.js";

// Slot 3 is free in the e2e-cross project (the others' files take 0–2 and 4–12).
const SLOT = 3;
const prosody = inject("prosody");
const synapse = inject("synapse");
const peers: Peers = { prosody, synapse, mta: mtaCoordinates() };
const slot = synapse.appservices[SLOT]!;
const STAMP = Date.now().toString(36);
const MUC = `open-${STAMP}@conference.${prosody.userDomain}`;
const aliasOf = (room: string) => openRoomAlias({ network: "xmpp", room } as never, { puppetPrefix: slot.puppetPrefix, serverName: synapse.serverName });
const NS_MUC = "http://jabber.org/protocol/muc";
const PREFIX = testPrefix("open-rooms");
const logs = new LogCapture();
/** The log line saying why an alias was refused. */
const refusedBecause = (alias: string) => logs.find((l) => l.alias === alias && l.msg === "open room alias refused")?.reason;

let gw: TestGateway;
let alice: TestUser;
let bob: TestMatrixUser;
let portal: string;
let puppetOf: (net: "xmpp" | "matrix", address: string, home: "xmpp" | "matrix") => string;

const groupchat = (body: string) => (s: Stanza) => s.name === "message" && s.attrs.type === "groupchat" && s.getChildText("body") === body;
const bobLocal = () => bob.userId.slice(1, bob.userId.indexOf(":"));

async function enterMuc(user: TestUser, room: string, nick: string): Promise<void> {
  await user.send(xml("presence", { to: `${room}/${nick}` }, xml("x", { xmlns: NS_MUC })));
  await user.inbox.next((s) => s.name === "presence" && s.attrs.from === `${room}/${nick}` && s.attrs.type !== "error", 10_000, `${nick} in ${room}`);
}

/** The MUC owner changes room settings (XEP-0045 §10.2). */
async function configure(user: TestUser, room: string, fields: Record<string, string>): Promise<void> {
  await user.xmpp.iqCaller.request(xml("iq", { type: "set", to: room },
    xml("query", { xmlns: `${NS_MUC}#owner` }, xml("x", { xmlns: "jabber:x:data", type: "submit" },
      xml("field", { var: "FORM_TYPE" }, xml("value", {}, `${NS_MUC}#roomconfig`)),
      ...Object.entries(fields).map(([k, v]) => xml("field", { var: k }, xml("value", {}, v)))))));
}

async function start(): Promise<TestGateway> {
  const started = await startCrossGateway(peers, SLOT, logs.logger, PREFIX);
  const f = crossFactories();
  puppetOf = (net, address, home) => f[net].addressing.toNative(endpoint(address, home), started.mappings);
  return started.gw;
}

beforeAll(async () => {
  alice = await connectUser("alice", { resource: "open-rooms" });
  await enterMuc(alice, MUC, "alice");
  bob = await startUser(synapse.baseUrl, synapse.registrationSharedSecret, uniqueName("bob"));
  gw = await start();
}, 120_000);

afterAll(async () => {
  bob?.stop();
  await alice?.stop();
  await gw?.destroy();
});

describe("issue 12: an open room, Matrix → XMPP, with no admin step", () => {
  it("a Matrix user joins the MUC room by its alias: the portal is made and the listener and the user's puppet enter the MUC", async () => {
    const alias = aliasOf(MUC);
    ({ roomId: portal } = await bob.client.joinRoom(alias));
    expect(portal.startsWith("!")).toBe(true);
    await alice.inbox.next((s) => s.name === "presence" && s.attrs.from === `${MUC}/parley-bridge`, 30_000, "the listener occupant");
    await alice.inbox.next((s) => s.name === "presence" && s.attrs.from === `${MUC}/${bobLocal()}` && s.attrs.type !== "unavailable", 30_000, "bob's puppet occupant");
    // The occupant already in the MUC shows in the portal as her puppet.
    await bob.waitForEvent((e) => e.getRoomId() === portal && e.getType() === "m.room.member" && e.getStateKey() === puppetOf("matrix", alice.bare, "xmpp") && e.getContent().membership === "join", 30_000, "alice's puppet in the portal");
  });

  it("they talk both ways, each from the other's own puppet, once each", async () => {
    await alice.send(xml("message", { to: MUC, type: "groupchat", id: "o1" }, xml("body", {}, "hello matrix, from the MUC")));
    const ev = await bob.waitForMessage("hello matrix, from the MUC", undefined, 30_000);
    expect(ev.getRoomId()).toBe(portal);
    expect(ev.getSender()).toBe(puppetOf("matrix", alice.bare, "xmpp"));
    await bob.say(portal, { msgtype: "m.text", body: "hello MUC, from matrix" });
    const got = await alice.inbox.next(groupchat("hello MUC, from matrix"), 30_000, "bob's groupchat");
    expect(got.attrs.from).toBe(`${MUC}/${bobLocal()}`);
    await bob.say(portal, { msgtype: "m.text", body: "open sentinel" });
    await alice.inbox.next(groupchat("open sentinel"), 30_000, "sentinel");
    // next() took each one copy: none is left over.
    expect(alice.inbox.seen.filter(groupchat("hello MUC, from matrix"))).toHaveLength(0);
    expect(bob.events.filter((e) => e.getRoomId() === portal && e.getContent().body === "hello matrix, from the MUC")).toHaveLength(1);
  });

  it("the open room is kept in Redis: a restarted gateway still bridges it", async () => {
    await gw.stop();
    gw = await start();
    await alice.send(xml("message", { to: MUC, type: "groupchat", id: "o2" }, xml("body", {}, "after the restart")));
    const ev = await bob.waitForMessage("after the restart", undefined, 30_000);
    expect(ev.getRoomId()).toBe(portal);
    expect(ev.getSender()).toBe(puppetOf("matrix", alice.bare, "xmpp"));
  });

  it("a Matrix user whose name is an occupant's nick enters as 'nick [matrix]'", async () => {
    const carl = await startUser(synapse.baseUrl, synapse.registrationSharedSecret, uniqueName("carl"));
    try {
      await carl.client.setDisplayName("alice");
      await carl.client.joinRoom(portal);
      await alice.inbox.next((s) => s.name === "presence" && s.attrs.from === `${MUC}/alice [matrix]`, 30_000, "carl's puppet under the other nick");
    } finally {
      carl.stop();
    }
  });
});

describe("issue 12: open-room aliases Parley cannot serve are unknown, and nothing is made", () => {
  it("a MUC room that does not exist", async () => {
    const alias = aliasOf(`nosuch-${STAMP}@conference.${prosody.userDomain}`);
    await expect(bob.client.joinRoom(alias)).rejects.toMatchObject({ errcode: "M_NOT_FOUND" });
    await expect(bob.client.getRoomIdForAlias(alias)).rejects.toMatchObject({ errcode: "M_NOT_FOUND" });
    expect(refusedBecause(alias)).toBe("the room does not exist");
  });

  it.each([
    ["members", { "muc#roomconfig_membersonly": "1" }, "the room is members-only"],
    ["secret", { "muc#roomconfig_passwordprotectedroom": "1", "muc#roomconfig_roomsecret": "s3cret" }, "the room needs a password"],
    ["anon", { "muc#roomconfig_whois": "moderators" }, "the room does not show its occupants' real JIDs (make it non-anonymous)"],
  ])("a MUC room that would not take Parley as it is (%s)", async (name, fields, reason) => {
    const room = `${name}-${STAMP}@conference.${prosody.userDomain}`;
    await enterMuc(alice, room, "alice");
    await configure(alice, room, fields);
    await expect(bob.client.joinRoom(aliasOf(room))).rejects.toMatchObject({ errcode: "M_NOT_FOUND" });
    expect(refusedBecause(aliasOf(room))).toBe(reason);
    expect(alice.inbox.seen.filter((s) => s.name === "presence" && s.attrs.from === `${room}/parley-bridge`)).toHaveLength(0);
  });

  it("an alias in the namespace that is not the room's canonical alias, and one that is no room at all", async () => {
    const upper = `#${slot.puppetPrefix}xmpp_=4fpen-${STAMP}=40conference.${prosody.userDomain}:${synapse.serverName}`;
    await expect(bob.client.joinRoom(upper)).rejects.toMatchObject({ errcode: "M_NOT_FOUND" });
    await expect(bob.client.joinRoom(`#${slot.puppetPrefix}nonsense:${synapse.serverName}`)).rejects.toMatchObject({ errcode: "M_NOT_FOUND" });
  });
});
