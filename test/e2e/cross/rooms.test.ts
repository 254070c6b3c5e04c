/**
 * Issue 12: one linked room across networks, with real peers — a Prosody MUC room (mod_muc, the
 * harness's conference component), a Synapse room with real members, Parley's puppets in both.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { Preset, Visibility } from "matrix-js-sdk";
import { endpoint, canonicalAddress, asNetworkId } from "../../../src/model/address.js";
import { linkedRoomKey } from "../../../src/model/room.js";
import { RoomDirectory } from "../../../src/mappings/room-directory.js";
import type { TestGateway } from "../../support/gateway.js";
import { connectUser, xml, type TestUser, type Stanza } from "../xmpp/support.js";
import { startUser, uniqueName, type TestMatrixUser } from "../../harness/synapse/clients.js";
import { mtaCoordinates } from "../../harness/mta/inject.js";
import { waitForMail, readMaildir, type MaildirMessage } from "../../harness/mta/maildir.js";
import { smtpSend } from "../../harness/mta/smtp-client.js";
import { composeMail, mailboxSigner } from "../email/support.js";
import { crossFactories, startCrossGateway } from "./gateway.js";

const SLOT = 4;
const prosody = inject("prosody");
const synapse = inject("synapse");
const STAMP = Date.now().toString(36);
const MUC = `team-${STAMP}@conference.${prosody.userDomain}`;
// The list address, in a mail domain the harness's Postfix relays to Parley; two subscribers behind Postfix.
const LIST = `team-${STAMP}@gw.example.org`;
const [carol, dave, eve] = ["carol", "dave", "eve"].map((n) => `${n}-${STAMP}@example.org`) as [string, string, string];
const mta = mtaCoordinates();
const inbox = mta.maildirs["example.org"]!;
const to = (who: string) => (m: MaildirMessage) => m.header("delivered-to") === who;

let gw: TestGateway;
let alice: TestUser;
let bob: TestMatrixUser;
let roomId: string;
let puppetOf: (net: "xmpp" | "matrix" | "email", address: string, home: "xmpp" | "matrix" | "email") => string;

/** A member's mail, DKIM-signed by example.org, handed to the real Postfix (which relays it to Parley). */
async function mail(from: string, rcpt: string, text: string, subject = "hello") {
  const raw = await composeMail({ from: `${from.split("-")[0]} <${from}>`, to: rcpt, subject, text, sign: mailboxSigner("example.org") });
  return smtpSend(mta.smtpPort, { from, to: [rcpt] }, raw);
}

const groupchat = (body: string) => (s: Stanza) => s.name === "message" && s.attrs.type === "groupchat" && s.getChildText("body") === body;

beforeAll(async () => {
  alice = await connectUser("alice", { resource: "rooms" });
  await alice.send(xml("presence", { to: `${MUC}/alice` }, xml("x", { xmlns: "http://jabber.org/protocol/muc" })));
  await alice.inbox.next((s) => s.name === "presence" && s.attrs.from === `${MUC}/alice`, 10_000, "MUC self-presence");
  bob = await startUser(synapse.baseUrl, synapse.registrationSharedSecret, uniqueName("bob"));
  ({ room_id: roomId } = await bob.client.createRoom({ preset: Preset.PublicChat, visibility: Visibility.Private, name: "team" }));
  const [xmpp, matrix, email] = [asNetworkId("xmpp"), asNetworkId("matrix"), asNetworkId("email")];
  const link = {
    key: linkedRoomKey("team"), origin: "linked" as const, name: "team", home: xmpp, address: canonicalAddress(MUC),
    natives: new Map([[xmpp, { network: xmpp, id: MUC }], [matrix, { network: matrix, id: roomId }], [email, { network: email, id: LIST }]]), source: { file: "<test>", line: 0 },
  };
  const started = await startCrossGateway({ prosody, synapse, mta }, SLOT, undefined, undefined, {}, (m) => ({ ...m, rooms: new RoomDirectory([link]) }));
  gw = started.gw;
  const f = crossFactories();
  puppetOf = (net, address, home) => f[net].addressing.toNative(endpoint(address, home), started.mappings);
  // The bridge bot joins the linked Matrix room at start; the listener joins the MUC once the link is up.
  await bob.waitForEvent((e) => e.getType() === "m.room.member" && e.getRoomId() === roomId && (e.getStateKey() ?? "").includes(synapse.appservices[SLOT]!.botLocalpart), 30_000, "the bridge bot in the room");
  await alice.inbox.next((s) => s.name === "presence" && (s.attrs.from ?? "").endsWith("/parley-bridge"), 30_000, "the listener occupant");
}, 120_000);

afterAll(async () => {
  bob?.stop();
  await alice?.stop();
  await gw?.destroy();
});

describe("issue 12: a linked room, XMPP MUC ↔ Matrix", () => {
  it("an XMPP occupant's message reaches the Matrix room once, from that person's own puppet", async () => {
    await alice.send(xml("message", { to: MUC, type: "groupchat", id: "r1" }, xml("body", {}, "hello from the MUC")));
    const ev = await bob.waitForMessage("hello from the MUC", undefined, 30_000);
    expect(ev.getRoomId()).toBe(roomId);
    expect(ev.getSender()).toBe(puppetOf("matrix", alice.bare, "xmpp"));
  });

  it("a Matrix member's messages reach the MUC once each, in order, from their puppet occupant", async () => {
    for (const n of [1, 2, 3]) await bob.say(roomId, { msgtype: "m.text", body: `from matrix ${n}` });
    const got: Stanza[] = [];
    for (const n of [1, 2, 3]) got.push(await alice.inbox.next(groupchat(`from matrix ${n}`), 30_000, `groupchat ${n}`));
    const bobLocal = bob.user.userId.slice(1, bob.user.userId.indexOf(":"));
    expect(new Set(got.map((s) => s.attrs.from))).toEqual(new Set([`${MUC}/${bobLocal}`]));
    await bob.say(roomId, { msgtype: "m.text", body: "sentinel" });
    await alice.inbox.next(groupchat("sentinel"), 30_000, "sentinel");
    expect(alice.inbox.seen.filter(groupchat("from matrix 1"))).toHaveLength(0);
    // Parley's own groupchat, reflected by the room to the listener, did not come back to Matrix.
    expect(bob.events.filter((e) => e.getRoomId() === roomId && e.getContent().body === "hello from the MUC")).toHaveLength(1);
  });
});

describe("issue 12: bad input in a linked room gets an answer in the sender's own protocol", () => {
  it("a Matrix message of a msgtype Parley cannot show gets the bridge bot's notice in reply; nothing reaches the MUC", async () => {
    const bad = await bob.say(roomId, { msgtype: "org.example.unknown", body: "no msgtype here" });
    const notice = await bob.waitForEvent((e) => e.getRoomId() === roomId && e.getContent().msgtype === "m.notice" && (e.getContent()["m.relates_to"])?.["m.in_reply_to"]?.event_id === bad, 30_000, "the bot's notice");
    expect(String(notice.getContent().body)).toContain("Not bridged");
    await bob.say(roomId, { msgtype: "m.text", body: "after the bad one" });
    await alice.inbox.next(groupchat("after the bad one"), 30_000, "the next message");
    expect(alice.inbox.seen.filter((s) => s.name === "message" && s.getChildText("body") === "no msgtype here")).toHaveLength(0);
  });

  it("a groupchat sent to a puppet's JID outside any room is answered with a stanza error", async () => {
    const to = puppetOf("xmpp", bob.user.userId.slice(1).replace(":", "@"), "matrix");
    await alice.send(xml("message", { to, type: "groupchat", id: "gc-direct" }, xml("body", {}, "not a room")));
    const err = await alice.inbox.next((s) => s.name === "message" && s.attrs.id === "gc-direct" && s.attrs.type === "error", 10_000, "the error");
    expect(err.getChild("error")?.getChildElements()[0]?.name).toBeDefined();
  });
});

describe("issue 12: the linked room's list, through the real Postfix", () => {
  beforeAll(async () => {
    // Subscribing by mail: each member writes to list+subscribe and gets a confirmation from the list.
    for (const who of [carol, dave]) {
      expect((await mail(who, LIST.replace("@", "+subscribe@"), "subscribe")).final).toBe(250);
      const confirmation = await waitForMail(inbox, (m) => to(who)(m) && m.raw.includes("now subscribed"), 30_000);
      expect(confirmation.header("list-id")).toBe(`team <${LIST.replace("@", ".")}>`);
      expect(confirmation.header("auto-submitted")).toBe("auto-replied");
    }
  }, 90_000);

  it("a room message reaches each list member once, from the sender's own puppet address, with List-* fields", async () => {
    await alice.send(xml("message", { to: MUC, type: "groupchat", id: "l1" }, xml("body", {}, "to the list from the MUC")));
    const aliceMail = puppetOf("email", alice.bare, "xmpp");
    for (const who of [carol, dave]) {
      const m = await waitForMail(inbox, (x) => to(who)(x) && x.raw.includes("to the list from the MUC"), 30_000);
      expect(m.header("from")).toContain(aliceMail);
      expect(m.header("to")).toContain(LIST);
      expect(m.header("list-id")).toBe(`team <${LIST.replace("@", ".")}>`);
      expect(m.header("list-post")).toBe(`<mailto:${LIST}>`);
      expect(m.header("list-unsubscribe")).toBe(`<mailto:${LIST.replace("@", "+unsubscribe@")}>`);
    }
    await alice.send(xml("message", { to: MUC, type: "groupchat", id: "l2" }, xml("body", {}, "list sentinel")));
    for (const who of [carol, dave]) await waitForMail(inbox, (x) => to(who)(x) && x.raw.includes("list sentinel"), 30_000);
    for (const who of [carol, dave]) expect(readMaildir(inbox).filter((x) => to(who)(x) && x.raw.includes("to the list from the MUC"))).toHaveLength(1);
  });

  it("a member's list mail posts to the room (MUC and Matrix, from their puppet) and reaches the other member, not its author", async () => {
    expect((await mail(carol, LIST, "hello room, from the list")).final).toBe(250);
    const gc = await alice.inbox.next(groupchat("hello room, from the list"), 30_000, "the list mail in the MUC");
    expect(gc.attrs.from).not.toBe(`${MUC}/parley-bridge`);
    const ev = await bob.waitForMessage("hello room, from the list", undefined, 30_000);
    expect(ev.getSender()).toBe(puppetOf("matrix", carol, "email"));
    const copy = await waitForMail(inbox, (x) => to(dave)(x) && x.raw.includes("hello room, from the list"), 30_000);
    expect(copy.header("from")).toContain(carol);
    await alice.send(xml("message", { to: MUC, type: "groupchat", id: "l3" }, xml("body", {}, "second list sentinel")));
    await waitForMail(inbox, (x) => to(carol)(x) && x.raw.includes("second list sentinel"), 30_000);
    expect(readMaildir(inbox).filter((x) => to(carol)(x) && x.raw.includes("hello room, from the list"))).toHaveLength(0);
  });

  it("mail from a non-member is refused with how to join; nothing reaches the room", async () => {
    const raw = await composeMail({ from: eve, to: LIST, text: "let me in", sign: mailboxSigner("example.org") });
    const r = await smtpSend(mta.parleyPort, { from: eve, to: [LIST] }, raw);
    expect(r.final).toBe(550);
    expect(r.finalText).toContain(`${LIST.replace("@", "+subscribe@")}`);
    await bob.say(roomId, { msgtype: "m.text", body: "after eve" });
    await alice.inbox.next(groupchat("after eve"), 30_000, "after eve");
    expect(alice.inbox.seen.filter(groupchat("let me in"))).toHaveLength(0);
  });
});

describe("issue 12: 3 XMPP occupants, 3 Matrix members, 2 list members in one room", () => {
  let erin: TestUser;
  let frank: TestUser;
  let bob2: TestMatrixUser;
  let bob3: TestMatrixUser;
  const groupchats = new Map<string, Stanza[]>();
  const addressOf = (u: TestMatrixUser) => u.user.userId.slice(1).replace(":", "@");
  const occupantOf = (s: Stanza) => s.getChild("x", "http://jabber.org/protocol/muc#user")?.getChild("item")?.attrs.jid?.split("/")[0];
  const record = (u: TestUser) => {
    const seen: Stanza[] = [];
    groupchats.set(u.bare, seen);
    u.xmpp.on("stanza", (s: Stanza) => { if (s.is("message") && s.attrs.type === "groupchat") seen.push(s); });
  };

  beforeAll(async () => {
    record(alice);
    [erin, frank] = await Promise.all([connectUser("erin", { resource: "rooms" }), connectUser("frank", { resource: "rooms" })]);
    // The owner lets occupants change the subject (muc#roomconfig_changesubject), so the puppets' topic changes show.
    await alice.send(xml("iq", { type: "set", to: MUC, id: "cfg-subject" }, xml("query", { xmlns: "http://jabber.org/protocol/muc#owner" }, xml("x", { xmlns: "jabber:x:data", type: "submit" },
      xml("field", { var: "FORM_TYPE" }, xml("value", {}, "http://jabber.org/protocol/muc#roomconfig")),
      xml("field", { var: "muc#roomconfig_changesubject" }, xml("value", {}, "1")),
      xml("field", { var: "muc#roomconfig_whois" }, xml("value", {}, "anyone"))))));
    const configured = await alice.inbox.next((s) => s.name === "iq" && s.attrs.id === "cfg-subject", 10_000, "room configuration");
    expect(configured.attrs.type).toBe("result");
    for (const u of [erin, frank]) {
      record(u);
      await u.send(xml("presence", { to: `${MUC}/${u.bare.split("@")[0]}` }, xml("x", { xmlns: "http://jabber.org/protocol/muc" }, xml("history", { maxchars: "0" }))));
      await u.inbox.next((s) => s.name === "presence" && s.attrs.from === `${MUC}/${u.bare.split("@")[0]}`, 10_000, "MUC self-presence");
    }
    [bob2, bob3] = await Promise.all([startUser(synapse.baseUrl, synapse.registrationSharedSecret, uniqueName("bob2")), startUser(synapse.baseUrl, synapse.registrationSharedSecret, uniqueName("bob3"))]);
    for (const u of [bob2, bob3]) await u.client.joinRoom(roomId);
  }, 120_000);

  afterAll(async () => {
    bob2?.stop();
    bob3?.stop();
    await erin?.stop();
    await frank?.stop();
  });

  it("an XMPP occupant's join is reflected in the Matrix room, and a Matrix member's join in the MUC", async () => {
    await bob.waitForEvent((e) => e.getType() === "m.room.member" && e.getStateKey() === puppetOf("matrix", erin.bare, "xmpp") && e.getContent().membership === "join", 30_000, "erin's puppet joins");
    const jid = puppetOf("xmpp", addressOf(bob3), "matrix");
    await alice.inbox.next((s) => s.name === "presence" && s.attrs.type !== "unavailable" && occupantOf(s) === jid, 30_000, "bob3's puppet occupant");
  });

  it("every member sees every other member's messages exactly once, from their own puppet, in the order sent", async () => {
    const tag = `r${Date.now().toString(36)}`;
    const text = (who: string, n: number) => `${tag} ${who} ${n}`;
    const xmppMembers = [alice, erin, frank];
    const matrixMembers = [bob, bob2, bob3];
    for (const u of xmppMembers) for (const n of [1, 2]) await u.send(xml("message", { to: MUC, type: "groupchat", id: `${tag}-${u.bare}-${n}` }, xml("body", {}, text(u.bare, n))));
    for (const u of matrixMembers) for (const n of [1, 2]) await u.say(roomId, { msgtype: "m.text", body: text(u.user.userId, n) });
    // Two mails sent at once may leave the MTA in either order: each member's second waits until the room has the first.
    for (const who of [carol, dave]) {
      expect((await mail(who, LIST, text(who, 1))).final).toBe(250);
      await waitUntil(() => groupchats.get(alice.bare)!.some((x) => x.getChildText("body") === text(who, 1)), 60_000, `${who}'s first mail in the room`);
      expect((await mail(who, LIST, text(who, 2))).final).toBe(250);
    }
    const senders = [...xmppMembers.map((u) => u.bare), ...matrixMembers.map((u) => u.user.userId), carol, dave];
    const body = (s: Stanza) => s.getChildText("body") ?? "";
    // XMPP occupants: 16 messages each (their own reflected by the room, the others' once each), per-sender order kept.
    for (const u of xmppMembers) {
      const seen = groupchats.get(u.bare)!;
      await waitUntil(() => senders.every((s) => seen.some((x) => body(x) === text(s, 2))), 60_000, `${u.bare} sees every member's messages`);
      for (const s of senders) {
        const got = seen.filter((x) => body(x).startsWith(`${tag} ${s} `)).map(body);
        expect(got, `${u.bare} from ${s}`).toEqual([text(s, 1), text(s, 2)]);
      }
      const fromCarol = seen.find((x) => body(x) === text(carol, 1))!;
      expect(fromCarol.attrs.from).not.toBe(`${MUC}/parley-bridge`);
    }
    // Matrix members: every message once, the foreign ones from that person's puppet.
    for (const u of matrixMembers) {
      const mine = () => u.events.filter((e) => e.getRoomId() === roomId && e.getType() === "m.room.message" && String(e.getContent().body ?? "").startsWith(tag));
      await waitUntil(() => senders.every((s) => mine().some((e) => e.getContent().body === text(s, 2))), 60_000, `${u.user.userId} sees every member's messages`);
      for (const s of senders) expect(mine().filter((e) => String(e.getContent().body).startsWith(`${tag} ${s} `)).map((e) => String(e.getContent().body)), `${u.user.userId} from ${s}`).toEqual([text(s, 1), text(s, 2)]);
      expect(mine().find((e) => e.getContent().body === text(erin.bare, 1))!.getSender()).toBe(puppetOf("matrix", erin.bare, "xmpp"));
      expect(mine().find((e) => e.getContent().body === text(dave, 1))!.getSender()).toBe(puppetOf("matrix", dave, "email"));
    }
    // List members: every other member's messages, once each, never their own.
    for (const who of [carol, dave]) {
      const others = senders.filter((s) => s !== who);
      await waitUntil(() => others.every((s) => readMaildir(inbox).some((m) => to(who)(m) && m.raw.includes(text(s, 2)))), 60_000, `${who} gets every member's messages`);
      for (const s of others) for (const n of [1, 2]) expect(readMaildir(inbox).filter((m) => to(who)(m) && m.raw.includes(text(s, n))), `${who} from ${s}`).toHaveLength(1);
      expect(readMaildir(inbox).filter((m) => to(who)(m) && m.raw.includes(text(who, 1)))).toHaveLength(0);
    }
  });

  it("a Matrix topic change becomes the MUC subject, set by the member's puppet", async () => {
    await bob.client.setRoomTopic(roomId, "release on friday");
    const subject = await alice.inbox.next((s) => s.is("message") && s.getChildText("subject") === "release on friday", 30_000, "the subject");
    expect(subject.attrs.from).not.toBe(`${MUC}/parley-bridge`);
  });

  it("leaves and kicks cross: a Matrix member kicked and an XMPP occupant kicked or leaving leave the other side too", async () => {
    const bob2Jid = puppetOf("xmpp", addressOf(bob2), "matrix");
    await alice.inbox.next((s) => s.name === "presence" && s.attrs.type !== "unavailable" && occupantOf(s) === bob2Jid, 30_000, "bob2's puppet occupant");
    await bob.client.kick(roomId, bob2.user.userId, "off topic");
    await alice.inbox.next((s) => s.name === "presence" && s.attrs.type === "unavailable" && occupantOf(s) === bob2Jid, 30_000, "bob2's puppet leaves the MUC");
    // alice created the MUC room: she owns it and may kick (XEP-0045 §8.2).
    await alice.send(xml("iq", { type: "set", to: MUC, id: "kick1" }, xml("query", { xmlns: "http://jabber.org/protocol/muc#admin" }, xml("item", { nick: "erin", role: "none" }, xml("reason", {}, "off topic")))));
    await bob.waitForEvent((e) => e.getType() === "m.room.member" && e.getStateKey() === puppetOf("matrix", erin.bare, "xmpp") && e.getContent().membership === "leave", 30_000, "erin's puppet leaves the Matrix room");
    await frank.send(xml("presence", { to: `${MUC}/frank`, type: "unavailable" }));
    await bob.waitForEvent((e) => e.getType() === "m.room.member" && e.getStateKey() === puppetOf("matrix", frank.bare, "xmpp") && e.getContent().membership === "leave", 30_000, "frank's puppet leaves the Matrix room");
  });
});

async function waitUntil(ok: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
