/**
 * Issue 12, open rooms from XMPP with no admin step: real XMPP users (@xmpp/client on Prosody) join
 * a real Synapse room with two real Matrix members through its room JID on Parley's component,
 * where Parley is the room's XEP-0045 MUC service. Asserted on the native stanzas: the occupants'
 * presences, the self-presence with status 110, the subject, groupchat both ways (each Matrix
 * member from their own nick; the XMPP user's message from their own puppet on Matrix), the
 * sender's reflection, a second occupant seeing the first's messages exactly once, leave, and
 * refusals in XMPP's own form. Files cross the room both ways with identical bytes (an occupant's
 * XEP-0363 upload → `m.image`; a Matrix member's image → an OOB link on Parley's media listener);
 * a file over the limit is refused with the room's stanza error.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { endpoint } from "../../../src/model/address.js";
import { asNetworkId } from "../../../src/model/address.js";
import { serviceRoomJid } from "../../../adapters/xmpp/muc/service-jid.js";
import { testPrefix, type TestGateway } from "../../support/gateway.js";
import { connectUser, xml, LogCapture, type TestUser, type Stanza } from "../xmpp/support.js";
import { startUser, uniqueName, type TestMatrixUser } from "../../harness/synapse/clients.js";
import { mtaCoordinates } from "../../harness/mta/inject.js";
import { crossFactories, startCrossGateway, type Peers } from "./gateway.js";
import { rmSync } from "node:fs";
import { png, pdf, sha256 } from "../../support/media-samples.js";
import { NS_OOB, download, matrixDownload, matrixUpload, mediaConfig, xmppUpload } from "./media-support.js";

// Slot 17 of the e2e-cross project (the others' files take 0–16).
const SLOT = 17;
const prosody = inject("prosody");
const synapse = inject("synapse");
const peers: Peers = { prosody, synapse, mta: mtaCoordinates() };
const STAMP = Date.now().toString(36);
const ALIAS = `#lounge-${STAMP}:${synapse.serverName}`;
const NS_MUC = "http://jabber.org/protocol/muc";
const NS_MUC_USER = `${NS_MUC}#user`;
const TOPIC = "Lounge talk";
const logs = new LogCapture();
const PREFIX = testPrefix("open-rooms-xmpp");
/** Files over these many bytes are refused from XMPP senders (media.limits.networks.xmpp). */
const XMPP_FILE_LIMIT = 200_000;
const media = mediaConfig(prosody, { networks: { xmpp: { maxBytes: XMPP_FILE_LIMIT } } });

let gw: TestGateway;
let grace: TestUser;
let heidi: TestUser;
let dora: TestMatrixUser;
let erin: TestMatrixUser;
let roomId: string;
let ROOM: string;
let puppetOf: (address: string) => string;
let mappings: Awaited<ReturnType<typeof startCrossGateway>>["mappings"];

const statuses = (s: Stanza) => (s.getChildren("x").find((x) => x.attrs.xmlns === NS_MUC_USER)?.getChildren("status") ?? []).map((c) => c.attrs.code as string);
const presenceFrom = (nick: string, type?: string) => (s: Stanza) => s.name === "presence" && s.attrs.from === `${ROOM}/${nick}` && s.attrs.type === type;
const groupchat = (body: string) => (s: Stanza) => s.name === "message" && s.attrs.type === "groupchat" && s.getChildText("body") === body;
const errorOf = (s: Stanza) => s.getChild("error")?.getChildElements().find((c) => c.name !== "text")?.name;
const join = (user: TestUser, room: string, nick: string) => user.send(xml("presence", { to: `${room}/${nick}` }, xml("x", { xmlns: NS_MUC })));

beforeAll(async () => {
  dora = await startUser(synapse.baseUrl, synapse.registrationSharedSecret, uniqueName("dora"));
  erin = await startUser(synapse.baseUrl, synapse.registrationSharedSecret, uniqueName("erin"));
  await dora.client.setDisplayName("Dora");
  await erin.client.setDisplayName("Erin");
  // The homeserver's default room version (12 on this Synapse: the id is `!<hash>`, no server part).
  ({ room_id: roomId } = await dora.client.createRoom({ room_alias_name: `lounge-${STAMP}`, preset: "public_chat" as never, topic: TOPIC }));
  await erin.client.joinRoom(roomId);
  const started = await startCrossGateway(peers, SLOT, logs.logger, PREFIX, {}, undefined, media);
  gw = started.gw;
  mappings = started.mappings;
  ROOM = serviceRoomJid({ network: asNetworkId("matrix"), id: ALIAS }, started.mappings)!;
  puppetOf = (address) => crossFactories().matrix.addressing.toNative(endpoint(address, "xmpp"), started.mappings);
  grace = await connectUser("grace", { resource: "open-xmpp" });
  heidi = await connectUser("heidi", { resource: "open-xmpp" });
}, 120_000);

afterAll(async () => {
  if (process.env.DUMP_LOGS) (await import("node:fs")).writeFileSync(process.env.DUMP_LOGS, logs.lines.map((l) => JSON.stringify(l)).join("\n"));
  dora?.stop();
  erin?.stop();
  await grace?.stop();
  await heidi?.stop();
  await gw?.destroy();
  rmSync(String(media.dir), { recursive: true, force: true });
});

describe("issue 12: an open room, XMPP → Matrix, through Parley's MUC service", () => {
  it("the room JID answers disco#info as a MUC room", async () => {
    const info = await grace.xmpp.iqCaller.request(xml("iq", { type: "get", to: ROOM }, xml("query", { xmlns: "http://jabber.org/protocol/disco#info" })));
    const q = info.getChild("query")!;
    expect(q.getChild("identity")?.attrs).toMatchObject({ category: "conference", type: "text" });
    expect(q.getChildren("feature").map((f) => f.attrs.var)).toContain(NS_MUC);
  });

  it("an XMPP user joins the Matrix room: self-presence with 110, the Matrix members as occupants, the subject; their puppet joins on Matrix", async () => {
    await join(grace, ROOM, "grace");
    const self = await grace.inbox.next(presenceFrom("grace"), 30_000, "grace's self-presence");
    expect(statuses(self)).toEqual(expect.arrayContaining(["110", "100"]));
    expect(self.getChild("x", NS_MUC_USER)?.getChild("item")?.attrs).toMatchObject({ role: "participant", jid: `${grace.bare}/open-xmpp` });
    // Opened by this join: the members are read from the room and follow the self-presence.
    for (const nick of ["Dora", "Erin"]) {
      const p = await grace.inbox.next(presenceFrom(nick), 30_000, `${nick} as an occupant`);
      expect(p.getChild("x", NS_MUC_USER)?.getChild("item")?.attrs.role).toBe("participant");
    }
    await grace.inbox.next((s) => s.name === "message" && s.attrs.type === "groupchat" && s.getChildText("subject") === TOPIC, 30_000, "the subject");
    await dora.waitForEvent((e) => e.getRoomId() === roomId && e.getType() === "m.room.member" && e.getStateKey() === puppetOf(grace.bare) && e.getContent().membership === "join", 30_000, "grace's puppet in the room");
  });

  it("they talk both ways: Matrix members from their nicks, the XMPP user from their puppet; the sender gets the reflection", async () => {
    await dora.say(roomId, { msgtype: "m.text", body: "hello from dora" });
    const got = await grace.inbox.next(groupchat("hello from dora"), 30_000, "dora's message");
    expect(got.attrs.from).toBe(`${ROOM}/Dora`);
    await grace.send(xml("message", { to: ROOM, type: "groupchat", id: "g1" }, xml("body", {}, "hello from grace")));
    const ev = await erin.waitForMessage("hello from grace", undefined, 30_000);
    expect(ev.getRoomId()).toBe(roomId);
    expect(ev.getSender()).toBe(puppetOf(grace.bare));
    const reflection = await grace.inbox.next(groupchat("hello from grace"), 30_000, "the reflection");
    expect(reflection.attrs).toMatchObject({ from: `${ROOM}/grace`, id: "g1" });
    expect(reflection.getChild("stanza-id", "urn:xmpp:sid:0")?.attrs.by).toBe(ROOM);
  });

  it("files cross the room both ways with the same bytes: an occupant's upload as her puppet's m.image, a Matrix member's image as an OOB link; over the limit, the room's stanza error", async () => {
    const mine = png(36, 24, 23);
    const url = await xmppUpload(grace, prosody, mine, "lounge.png", "image/png");
    await grace.send(xml("message", { to: ROOM, type: "groupchat", id: "gf1" }, xml("body", {}, url), xml("x", { xmlns: NS_OOB }, xml("url", {}, url))));
    const ev = await dora.waitForEvent((e) => e.getRoomId() === roomId && e.getSender() === puppetOf(grace.bare) && e.getContent().filename === "lounge.png", 30_000, "grace's image in the Matrix room");
    expect(ev.getContent().msgtype).toBe("m.image");
    expect(sha256(await matrixDownload(dora, String(ev.getContent().url)))).toBe(sha256(mine));
    const theirs = png(30, 20, 29);
    const mxc = await matrixUpload(dora, theirs, "dora.png", "image/png");
    await dora.say(roomId, { msgtype: "m.image", body: "dora.png", filename: "dora.png", url: mxc, info: { mimetype: "image/png", size: theirs.length } });
    const got = await grace.inbox.next((s) => s.name === "message" && s.attrs.from === `${ROOM}/Dora` && s.getChild("x", NS_OOB)?.getChildText("desc") === "dora.png", 30_000, "dora's image");
    const link = got.getChild("x", NS_OOB)!.getChildText("url")!;
    expect(got.getChildText("body")).toBe(link);
    expect(sha256((await download(link)).data)).toBe(sha256(theirs));
    const big = await xmppUpload(grace, prosody, pdf("too big", XMPP_FILE_LIMIT + 50_000), "big.pdf", "application/pdf");
    await grace.send(xml("message", { to: ROOM, type: "groupchat", id: "gf2" }, xml("body", {}, big), xml("x", { xmlns: NS_OOB }, xml("url", {}, big))));
    const err = await grace.inbox.next((s) => s.name === "message" && s.attrs.type === "error" && s.attrs.id === "gf2", 30_000, "the too-large error");
    expect(errorOf(err)).toBe("policy-violation");
    expect(err.getChild("error")?.getChildText("text", "urn:ietf:params:xml:ns:xmpp-stanzas")).toContain(String(XMPP_FILE_LIMIT));
  });

  it("a second occupant gets the occupants, then their self-presence, then the subject; and sees the first's messages exactly once", async () => {
    await join(heidi, ROOM, "heidi");
    const self = await heidi.inbox.next(presenceFrom("heidi"), 30_000, "heidi's self-presence");
    expect(statuses(self)).toContain("110");
    // What arrived before the self-presence (next() took that one): the occupants already there.
    const before = heidi.inbox.seen.filter((s) => s.name === "presence" && String(s.attrs.from).startsWith(`${ROOM}/`)).map((s) => s.attrs.from);
    expect(new Set(before)).toEqual(new Set([`${ROOM}/Dora`, `${ROOM}/Erin`, `${ROOM}/grace`]));
    await heidi.inbox.next((s) => s.name === "message" && s.getChildText("subject") === TOPIC, 10_000, "the subject");
    await grace.inbox.next(presenceFrom("heidi"), 30_000, "heidi's arrival, for grace");
    await grace.send(xml("message", { to: ROOM, type: "groupchat", id: "g2" }, xml("body", {}, "once for heidi")));
    await grace.send(xml("message", { to: ROOM, type: "groupchat", id: "g3" }, xml("body", {}, "sentinel for heidi")));
    const first = await heidi.inbox.next(groupchat("once for heidi"), 30_000, "grace's message");
    expect(first.attrs.from).toBe(`${ROOM}/grace`);
    await heidi.inbox.next(groupchat("sentinel for heidi"), 30_000, "the sentinel");
    expect(heidi.inbox.seen.filter(groupchat("once for heidi"))).toHaveLength(0);
    await dora.waitForMessage("sentinel for heidi", undefined, 30_000);
    expect(dora.events.filter((e) => e.getRoomId() === roomId && e.getContent().body === "once for heidi")).toHaveLength(1);
  });

  it("leaving: self-presence unavailable with 110, the others see the departure, the puppet leaves the Matrix room", async () => {
    await heidi.send(xml("presence", { to: `${ROOM}/heidi`, type: "unavailable" }));
    const gone = await heidi.inbox.next(presenceFrom("heidi", "unavailable"), 30_000, "heidi's own departure");
    expect(statuses(gone)).toContain("110");
    await grace.inbox.next(presenceFrom("heidi", "unavailable"), 30_000, "heidi's departure, for grace");
    await dora.waitForEvent((e) => e.getRoomId() === roomId && e.getType() === "m.room.member" && e.getStateKey() === puppetOf(heidi.bare) && e.getContent().membership === "leave", 30_000, "heidi's puppet leaving");
  });

  it("a Matrix topic with CR/LF becomes one line of subject; a Matrix member leaving is an occupant leaving", async () => {
    await dora.client.setRoomTopic(roomId, "line one\r\nline two");
    const subject = await grace.inbox.next((s) => s.name === "message" && s.getChildText("subject") === "line one line two", 30_000, "the new subject");
    expect(subject.attrs.from).toBe(`${ROOM}/Dora`);
    await erin.client.leave(roomId);
    await grace.inbox.next(presenceFrom("Erin", "unavailable"), 30_000, "erin's departure");
  });

  it("the room and its occupants are kept in Redis: a restarted gateway still bridges them", async () => {
    await gw.stop();
    gw = (await startCrossGateway(peers, SLOT, logs.logger, PREFIX, {}, undefined, media)).gw;
    await dora.say(roomId, { msgtype: "m.text", body: "after the restart" });
    expect((await grace.inbox.next(groupchat("after the restart"), 30_000, "dora after the restart")).attrs.from).toBe(`${ROOM}/Dora`);
    await grace.send(xml("message", { to: ROOM, type: "groupchat", id: "g4" }, xml("body", {}, "grace after the restart")));
    expect((await dora.waitForMessage("grace after the restart", undefined, 30_000)).getSender()).toBe(puppetOf(grace.bare));
  });

  it("an occupant's nick change and subject change are refused in XMPP's own form", async () => {
    await join(grace, ROOM, "grace2");
    expect(errorOf(await grace.inbox.next((s) => s.name === "presence" && s.attrs.type === "error" && s.attrs.from === `${ROOM}/grace2`, 30_000, "nick change"))).toBe("not-acceptable");
    await grace.send(xml("message", { to: ROOM, type: "groupchat", id: "s1" }, xml("subject", {}, "new\nsubject")));
    expect(errorOf(await grace.inbox.next((s) => s.name === "message" && s.attrs.type === "error" && s.attrs.id === "s1", 30_000, "subject change"))).toBe("forbidden");
  });

  it.each([
    ["an invite-only Matrix room", "closed", { preset: "private_chat" }, /is not public/],
    ["an end-to-end encrypted Matrix room", "secret", { preset: "public_chat", initial_state: [{ type: "m.room.encryption", state_key: "", content: { algorithm: "m.megolm.v1.aes-sha2" } }] }, /end-to-end encrypted/],
  ])("%s is forbidden, and nothing is opened", async (_what, name, options, reason) => {
    await dora.client.createRoom({ room_alias_name: `${name}-${STAMP}`, ...options } as never);
    const jid = serviceRoomJid({ network: asNetworkId("matrix"), id: `#${name}-${STAMP}:${synapse.serverName}` }, mappings)!;
    await join(heidi, jid, "heidi");
    const err = await heidi.inbox.next((s) => s.name === "presence" && s.attrs.type === "error" && s.attrs.from === `${jid}/heidi`, 30_000, "the refusal");
    expect(errorOf(err)).toBe("forbidden");
    expect(err.getChild("error")?.getChildText("text", "urn:ietf:params:xml:ns:xmpp-stanzas")).toMatch(reason);
  });

  it("an occupant whose client goes offline leaves the room (their server sends the unavailable presence)", async () => {
    const ivan = await connectUser("ivan", { resource: "open-xmpp" });
    await join(ivan, ROOM, "ivan");
    await ivan.inbox.next(presenceFrom("ivan"), 30_000, "ivan's self-presence");
    await dora.waitForEvent((e) => e.getRoomId() === roomId && e.getType() === "m.room.member" && e.getStateKey() === puppetOf(ivan.bare) && e.getContent().membership === "join", 30_000, "ivan's puppet joining");
    await ivan.stop();
    await grace.inbox.next(presenceFrom("ivan", "unavailable"), 30_000, "ivan's departure, for grace");
    await dora.waitForEvent((e) => e.getRoomId() === roomId && e.getType() === "m.room.member" && e.getStateKey() === puppetOf(ivan.bare) && e.getContent().membership === "leave", 30_000, "ivan's puppet leaving");
  });

  it("a Matrix room bridged already is forbidden under another form (the same room by its id)", async () => {
    const byId = serviceRoomJid({ network: asNetworkId("matrix"), id: roomId }, mappings)!;
    expect(byId).toBeDefined();
    await join(heidi, byId, "heidi");
    const err = await heidi.inbox.next((s) => s.name === "presence" && s.attrs.type === "error" && s.attrs.from === `${byId}/heidi`, 30_000, "the room by its id");
    expect(errorOf(err)).toBe("forbidden");
    expect(err.getChild("error")?.getChildText("text", "urn:ietf:params:xml:ns:xmpp-stanzas")).toMatch(/bridged already/);
  });

  it("a room version 12 Matrix room (id `!<hash>`, no server part, no alias) is joined by its id's room JID, and they talk", async () => {
    const { room_id: v12 } = await dora.client.createRoom({ preset: "public_chat" as never, name: "By id", topic: "by id" });
    expect(v12).toMatch(/^![A-Za-z0-9_-]{43}$/);
    const jid = serviceRoomJid({ network: asNetworkId("matrix"), id: v12 }, mappings)!;
    expect(jid).toBeDefined();
    await join(heidi, jid, "heidi");
    const self = await heidi.inbox.next((s) => s.name === "presence" && s.attrs.from === `${jid}/heidi` && s.attrs.type === undefined, 30_000, "heidi's self-presence in the room by id");
    expect(statuses(self)).toContain("110");
    await dora.waitForEvent((e) => e.getRoomId() === v12 && e.getType() === "m.room.member" && e.getStateKey() === puppetOf(heidi.bare) && e.getContent().membership === "join", 30_000, "heidi's puppet in the room by id");
    await heidi.send(xml("message", { to: jid, type: "groupchat", id: "v12-1" }, xml("body", {}, "hello by id")));
    const ev = await dora.waitForMessage("hello by id", undefined, 30_000);
    expect(ev.getRoomId()).toBe(v12);
    expect(ev.getSender()).toBe(puppetOf(heidi.bare));
    await dora.say(v12, { msgtype: "m.text", body: "dora by id" });
    expect((await heidi.inbox.next((s) => s.name === "message" && s.attrs.type === "groupchat" && s.getChildText("body") === "dora by id", 30_000, "dora's message by id")).attrs.from).toBe(`${jid}/Dora`);
    await heidi.send(xml("presence", { to: `${jid}/heidi`, type: "unavailable" }));
    await heidi.inbox.next((s) => s.name === "presence" && s.attrs.from === `${jid}/heidi` && s.attrs.type === "unavailable", 30_000, "heidi leaving the room by id");
  });

  it("refusals in XMPP's own form: no such room, a nick in use, an over-long nick, a message from a non-occupant", async () => {
    const nosuch = serviceRoomJid({ network: asNetworkId("matrix"), id: `#nosuch-${STAMP}:${synapse.serverName}` }, mappings);
    await join(heidi, nosuch!, "heidi");
    expect(errorOf(await heidi.inbox.next((s) => s.name === "presence" && s.attrs.type === "error" && s.attrs.from === `${nosuch}/heidi`, 30_000, "no such room"))).toBe("item-not-found");
    await join(heidi, ROOM, "Dora");
    expect(errorOf(await heidi.inbox.next((s) => s.name === "presence" && s.attrs.type === "error" && s.attrs.from === `${ROOM}/Dora`, 30_000, "nick conflict"))).toBe("conflict");
    const long = "n".repeat(1000);
    await join(heidi, ROOM, long);
    expect(errorOf(await heidi.inbox.next((s) => s.name === "presence" && s.attrs.type === "error" && s.attrs.from === `${ROOM}/${long}`, 30_000, "over-long nick"))).toBe("not-acceptable");
    await heidi.send(xml("message", { to: ROOM, type: "groupchat", id: "h1" }, xml("body", {}, "not in the room")));
    expect(errorOf(await heidi.inbox.next((s) => s.name === "message" && s.attrs.type === "error" && s.attrs.id === "h1", 30_000, "non-occupant"))).toBe("not-acceptable");
    expect(erin.events.filter((e) => e.getContent().body === "not in the room")).toHaveLength(0);
  });
});
