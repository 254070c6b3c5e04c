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
