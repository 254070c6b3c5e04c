/**
 * Issue 18 in rooms (and issue 12's edits and replies in a room): reactions, retractions, replies,
 * edits and typing cross a linked room — a real Prosody MUC room with a real XMPP occupant, a real
 * Synapse room with a real Matrix member — both ways, by reference through the id map. Each test
 * reads the native stanza or event the receiving client sees; read markers (XEP-0333 in groupchat ↔
 * `m.read` in the room) too. The room's list (through the real
 * Postfix, reactionNotices on) gets a reaction as a notice mail and a retraction not at all.
 * Files (issue 13 in rooms) cross every way with identical bytes: a Matrix member's image to the
 * MUC as an OOB link on Parley's media listener and to the list as an attachment, an occupant's
 * XEP-0363 upload to the Matrix room as `m.image`, a list mail's attachment to both; a file over a
 * limit gets its sender the reason in their own protocol.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { Preset, RoomMemberEvent, Visibility, type MatrixEvent } from "matrix-js-sdk";
import { asNetworkId, canonicalAddress, endpoint } from "../../../src/model/address.js";
import { linkedRoomKey } from "../../../src/model/room.js";
import { RoomDirectory } from "../../../src/mappings/room-directory.js";
import type { TestGateway } from "../../support/gateway.js";
import { connectUser, LogCapture, xml, type Stanza, type TestUser } from "../xmpp/support.js";
import { startUser, uniqueName, type TestMatrixUser } from "../../harness/synapse/clients.js";
import { mtaCoordinates } from "../../harness/mta/inject.js";
import { readMaildir, waitForMail, type MaildirMessage } from "../../harness/mta/maildir.js";
import { smtpSend } from "../../harness/mta/smtp-client.js";
import { composeMail, mailboxSigner } from "../email/support.js";
import { crossFactories, startCrossGateway } from "./gateway.js";
import { NS_MUC, NS_REACTIONS, NS_RETRACT, NS_REPLY, NS_CORRECT, NS_CHATSTATES, NS_MARKERS } from "../../support/xmpp-namespaces.js";
import { rmSync } from "node:fs";
import { png, pdf, sha256 } from "../../support/media-samples.js";
import { NS_OOB, download, mailFiles, mailWithFiles, matrixDownload, matrixUpload, mediaConfig, xmppUpload } from "./media-support.js";
import { PollStartEvent } from "matrix-js-sdk/lib/extensible_events_v1/PollStartEvent.js";
import { M_POLL_KIND_DISCLOSED } from "matrix-js-sdk/lib/@types/polls.js";

const SLOT = 13;
const T = 30_000;
const prosody = inject("prosody");
const synapse = inject("synapse");
const mta = mtaCoordinates();
const inbox = mta.maildirs["example.org"]!;
const STAMP = Date.now().toString(36);
const MUC = `feat-${STAMP}@conference.${prosody.userDomain}`;
const LIST = `feat-${STAMP}@gw.example.org`;
const carol = `carol-f${STAMP}@example.org`;
/** Files over these many bytes are refused from Matrix and XMPP senders (media.limits.networks). */
const CHAT_FILE_LIMIT = 200_000;
/** The MUC service's domain takes less (media.limits.domains): a file within the sender's limits may be over the room's. */
const MUC_FILE_LIMIT = 100_000;
let mediaDir: string | undefined;
let carolPuppet: string;

let gw: TestGateway;
let alice: TestUser;
let bob: TestMatrixUser;
let roomId: string;
let alicePuppet: string;
/** Bob's puppet occupant in the MUC (room/nick), as Alice's client sees it. */
let bobOccupant: string;
/** Alice's first groupchat: her id, and its event in the Matrix room. */
let aliceId: string;
let aliceEvent: string;
let aliceSeen: MatrixEvent;
/** Bob's first message: its event, the id Alice's client knows it by, and its mail to Carol. */
let bobEvent: string;
let bobMucId: string;
let bobMail: MaildirMessage;
const logs = new LogCapture();
const typing: Array<{ userId: string; typing: boolean }> = [];
let n = 0;
const uid = () => `rf-${STAMP}-${++n}`;

const fromBob = (s: Stanza) => s.is("message") && s.attrs.type === "groupchat" && s.attrs.from === bobOccupant;
const bodyOf = (s: Stanza) => s.getChildText("body") ?? "";
const relation = (e: MatrixEvent) => e.getContent<{ "m.relates_to"?: Record<string, unknown> }>()["m.relates_to"];
const redacts = (e: MatrixEvent) => e.event.redacts ?? e.getContent<{ redacts?: string }>().redacts;
const inRoom = (e: MatrixEvent) => e.getRoomId() === roomId;
const toCarol = (m: MaildirMessage) => m.header("delivered-to") === carol;
const msgId = (v: string | undefined) => (v ?? "").replace(/[<>\s]/g, "");
const groupchat = (...children: ReturnType<typeof xml>[]) => alice.send(xml("message", { to: MUC, type: "groupchat", id: uid() }, ...children));

async function mail(from: string, rcpt: string, text: string) {
  const raw = await composeMail({ from, to: rcpt, subject: "subscribe", text, sign: mailboxSigner("example.org") });
  return smtpSend(mta.smtpPort, { from, to: [rcpt] }, raw);
}

/** A sentinel message from Bob, seen by Alice: everything Bob's side sent before it has reached her. */
async function bobSentinel(text: string): Promise<void> {
  await bob.say(roomId, { msgtype: "m.text", body: text });
  await alice.inbox.next((s) => fromBob(s) && bodyOf(s) === text, T, text);
}

beforeAll(async () => {
  alice = await connectUser("alice", { resource: "room-features" });
  await alice.send(xml("presence", { to: `${MUC}/alice` }, xml("x", { xmlns: NS_MUC }, xml("history", { maxchars: "0" }))));
  await alice.inbox.next((s) => s.name === "presence" && s.attrs.from === `${MUC}/alice`, 10_000, "MUC self-presence");
  // Alice created the room and owns it: non-anonymous, so Parley sees occupants' real JIDs.
  await alice.send(xml("iq", { type: "set", to: MUC, id: "cfg" }, xml("query", { xmlns: "http://jabber.org/protocol/muc#owner" }, xml("x", { xmlns: "jabber:x:data", type: "submit" },
    xml("field", { var: "FORM_TYPE" }, xml("value", {}, "http://jabber.org/protocol/muc#roomconfig")),
    xml("field", { var: "muc#roomconfig_whois" }, xml("value", {}, "anyone"))))));
  expect((await alice.inbox.next((s) => s.name === "iq" && s.attrs.id === "cfg", 10_000, "room configuration")).attrs.type).toBe("result");
  bob = await startUser(synapse.baseUrl, synapse.registrationSharedSecret, uniqueName("bob"));
  bob.client.on(RoomMemberEvent.Typing, (_e, member) => { if (member.roomId === roomId) typing.push({ userId: member.userId, typing: member.typing }); });
  ({ room_id: roomId } = await bob.client.createRoom({ preset: Preset.PublicChat, visibility: Visibility.Private, name: "features" }));
  const [xmpp, matrix, email] = [asNetworkId("xmpp"), asNetworkId("matrix"), asNetworkId("email")];
  const link = {
    key: linkedRoomKey("features"), origin: "linked" as const, name: "features", home: xmpp, address: canonicalAddress(MUC),
    natives: new Map([[xmpp, { network: xmpp, id: MUC }], [matrix, { network: matrix, id: roomId }], [email, { network: email, id: LIST }]]), source: { file: "<test>", line: 0 },
  };
  const media = mediaConfig(prosody, { networks: { xmpp: { maxBytes: CHAT_FILE_LIMIT }, matrix: { maxBytes: CHAT_FILE_LIMIT } }, domains: { [MUC.split("@")[1]!]: { maxBytes: MUC_FILE_LIMIT } } });
  mediaDir = String(media.dir);
  const started = await startCrossGateway({ prosody, synapse, mta }, SLOT, logs.logger, undefined, { reactionNotices: true }, (m) => ({ ...m, rooms: new RoomDirectory([link]) }), media);
  gw = started.gw;
  alicePuppet = crossFactories().matrix.addressing.toNative(endpoint(alice.bare, "xmpp"), started.mappings);
  carolPuppet = crossFactories().matrix.addressing.toNative(endpoint(carol, "email"), started.mappings);
  await bob.waitForEvent((e) => e.getType() === "m.room.member" && inRoom(e) && (e.getStateKey() ?? "").includes(synapse.appservices[SLOT]!.botLocalpart), T, "the bridge bot in the room");
  await alice.inbox.next((s) => s.name === "presence" && (s.attrs.from ?? "").endsWith("/parley-bridge"), T, "the listener occupant");
  expect((await mail(carol, LIST.replace("@", "+subscribe@"), "subscribe")).final).toBe(250);
  await waitForMail(inbox, (m) => toCarol(m) && m.raw.includes("now subscribed"), T);

  aliceId = uid();
  await alice.send(xml("message", { to: MUC, type: "groupchat", id: aliceId }, xml("body", {}, "RF: hello from the MUC")));
  const seen = await bob.waitForMessage("RF: hello from the MUC", alicePuppet, T);
  expect(inRoom(seen)).toBe(true);
  aliceEvent = seen.getId()!;
  aliceSeen = seen;
  bobEvent = await bob.say(roomId, { msgtype: "m.text", body: "RF: hello from Matrix" });
  const got = await alice.inbox.next((s) => s.is("message") && s.attrs.type === "groupchat" && bodyOf(s) === "RF: hello from Matrix", T, "Bob's message");
  bobOccupant = got.attrs.from!;
  bobMucId = got.attrs.id!;
  bobMail = await waitForMail(inbox, (m) => toCarol(m) && m.raw.includes("RF: hello from Matrix"), T);
}, 120_000);

afterAll(async () => {
  bob?.stop();
  await alice?.stop();
  await gw?.destroy();
  if (mediaDir) rmSync(mediaDir, { recursive: true, force: true });
});

describe("reactions in a linked room (XEP-0444 ↔ m.reaction)", () => {
  it("an occupant's reactions become her puppet's annotations on the Matrix message; dropping one redacts it; the list gets a notice", async () => {
    await groupchat(xml("reactions", { xmlns: NS_REACTIONS, id: bobMucId }, xml("reaction", {}, "👍"), xml("reaction", {}, "🎉")));
    const isReaction = (key: string) => (e: MatrixEvent) => inRoom(e) && e.getType() === "m.reaction" && e.getSender() === alicePuppet && relation(e)?.event_id === bobEvent && relation(e)?.key === key;
    const thumbs = await bob.waitForEvent(isReaction("👍"), T, "👍 on Bob's message");
    await bob.waitForEvent(isReaction("🎉"), T, "🎉 on Bob's message");
    expect(relation(thumbs)?.rel_type).toBe("m.annotation");
    await groupchat(xml("reactions", { xmlns: NS_REACTIONS, id: bobMucId }, xml("reaction", {}, "🎉")));
    const gone = await bob.waitForEvent((e) => inRoom(e) && e.getType() === "m.room.redaction" && redacts(e) === thumbs.getId(), T, "the 👍 redacted");
    expect(gone.getSender()).toBe(alicePuppet);
    // The list: a short notice mail in reply to the list's copy of Bob's message, never the bare emoji as a post.
    const notice = await waitForMail(inbox, (m) => toCarol(m) && msgId(m.header("in-reply-to")) === msgId(bobMail.header("message-id")) && m.raw.includes("reacted"), T);
    expect(notice.header("from")).toContain(alice.bare.split("@")[0]);
  });

  it("a Matrix member's reaction reaches the MUC as his puppet's whole set on her message; redacting it empties the set", async () => {
    const rx = await bob.client.sendEvent(roomId, "m.reaction" as never, { "m.relates_to": { rel_type: "m.annotation", event_id: aliceEvent, key: "❤️" } } as never);
    const shown = await alice.inbox.next((s) => fromBob(s) && s.getChild("reactions", NS_REACTIONS) !== undefined, T, "Bob's reaction");
    const set = shown.getChild("reactions", NS_REACTIONS)!;
    expect(set.attrs.id).toBe(aliceId);
    expect(set.getChildren("reaction").map((k) => k.text())).toEqual(["❤️"]);
    expect(shown.getChild("body")).toBeUndefined();
    await bob.client.redactEvent(roomId, rx.event_id);
    const emptied = await alice.inbox.next((s) => fromBob(s) && s.getChild("reactions", NS_REACTIONS) !== undefined && s !== shown, T, "Bob's reaction removed");
    expect(emptied.getChild("reactions", NS_REACTIONS)!.getChildren("reaction")).toHaveLength(0);
  });
});

describe("retractions in a linked room (XEP-0424 ↔ redactions), only by the original sender", () => {
  it("an occupant's retraction of her own groupchat redacts it in the Matrix room; the list gets no mail for it", async () => {
    const id = uid();
    await alice.send(xml("message", { to: MUC, type: "groupchat", id }, xml("body", {}, "RF: oops")));
    const oops = await bob.waitForMessage("RF: oops", alicePuppet, T);
    await groupchat(xml("retract", { xmlns: NS_RETRACT, id }), xml("fallback", { xmlns: "urn:xmpp:fallback:0", for: NS_RETRACT }), xml("body", {}, "retracted"));
    const redaction = await bob.waitForEvent((e) => inRoom(e) && e.getType() === "m.room.redaction" && redacts(e) === oops.getId(), T, "the redaction");
    expect(redaction.getSender()).toBe(alicePuppet);
    await alice.send(xml("message", { to: MUC, type: "groupchat", id: uid() }, xml("body", {}, "RF: after the retraction")));
    await waitForMail(inbox, (m) => toCarol(m) && m.raw.includes("RF: after the retraction"), T);
    expect(readMaildir(inbox).filter((m) => toCarol(m) && (m.raw.includes("retracted") || m.raw.includes("retract a previous message")))).toHaveLength(0);
  });

  it("a Matrix member's redaction of his own message retracts his puppet's groupchat", async () => {
    const eventId = await bob.say(roomId, { msgtype: "m.text", body: "RF: mistake" });
    const got = await alice.inbox.next((s) => fromBob(s) && bodyOf(s) === "RF: mistake", T, "the mistake");
    await bob.client.redactEvent(roomId, eventId);
    const retract = await alice.inbox.next((s) => fromBob(s) && s.getChild("retract", NS_RETRACT) !== undefined, T, "the retraction");
    expect(retract.getChild("retract", NS_RETRACT)!.attrs.id).toBe(got.attrs.id);
  });

  it("an occupant's retraction of someone else's groupchat is not bridged (Prosody does not check it; Parley does): Bob's message stays", async () => {
    await groupchat(xml("retract", { xmlns: NS_RETRACT, id: bobMucId }), xml("body", {}, "retracted"));
    await alice.send(xml("message", { to: MUC, type: "groupchat", id: uid() }, xml("body", {}, "RF: after a foreign retraction")));
    await bob.waitForMessage("RF: after a foreign retraction", alicePuppet, T);
    expect(bob.events.some((e) => e.getType() === "m.room.redaction" && redacts(e) === bobEvent)).toBe(false);
    // Stopped at the gateway, not left to the homeserver's power levels: no room job was made for it.
    expect(logs.lines.some((l) => String(l.msg).startsWith("retraction of a room message that is not the occupant's own") && l.known === true)).toBe(true);
    expect(logs.lines.some((l) => l.msg === "delivery failed for good")).toBe(false);
  });

  it("a Matrix moderator's redaction of an occupant's message, in a MUC without MAM and XEP-0425, is dropped with a reason (room-moderation.test.ts has the MUC that has them): it stays in the MUC", async () => {
    const id = uid();
    await alice.send(xml("message", { to: MUC, type: "groupchat", id }, xml("body", {}, "RF: moderate me")));
    const hers = await bob.waitForMessage("RF: moderate me", alicePuppet, T);
    await bob.client.redactEvent(roomId, hers.getId()!);
    await expect.poll(() => logs.lines.some((l) => l.event === "feature-dropped" && l.feature === "moderation" && l.network === "xmpp" && String(l.msg).includes("no stanza-id")), { timeout: T }).toBe(true);
    await bobSentinel("RF: after the moderation");
    expect(alice.inbox.seen.some((s) => s.getChild("retract", NS_RETRACT)?.attrs.id === id)).toBe(false);
  });
});

describe("replies and edits in a linked room (XEP-0461, XEP-0308 ↔ m.in_reply_to, m.replace)", () => {
  it("an occupant's reply points at the Matrix message, without the quoted fallback", async () => {
    const quote = "> RF: hello from Matrix\n";
    await groupchat(xml("body", {}, `${quote}RF: my answer`), xml("reply", { xmlns: NS_REPLY, id: bobMucId, to: bobOccupant }),
      xml("fallback", { xmlns: "urn:xmpp:fallback:0", for: NS_REPLY }, xml("body", { start: "0", end: String([...quote].length) })));
    const reply = await bob.waitForMessage("RF: my answer", alicePuppet, T);
    expect((relation(reply)?.["m.in_reply_to"] as { event_id?: string } | undefined)?.event_id).toBe(bobEvent);
    expect(reply.getContent().body).toBe("RF: my answer");
  });

  it("a Matrix member's reply reaches the MUC pointing at the occupant's own message", async () => {
    await bob.say(roomId, { msgtype: "m.text", body: "RF: replying", "m.relates_to": { "m.in_reply_to": { event_id: aliceEvent } } });
    const got = await alice.inbox.next((s) => fromBob(s) && bodyOf(s) === "RF: replying", T, "Bob's reply");
    expect(got.getChild("reply", NS_REPLY)?.attrs.id).toBe(aliceId);
  });

  it("an occupant's correction replaces her message in the Matrix room", async () => {
    const id = uid();
    await alice.send(xml("message", { to: MUC, type: "groupchat", id }, xml("body", {}, "RF: teh typo")));
    const original = await bob.waitForMessage("RF: teh typo", alicePuppet, T);
    await groupchat(xml("body", {}, "RF: the typo"), xml("replace", { xmlns: NS_CORRECT, id }));
    const edit = await bob.waitForEvent((e) => inRoom(e) && relation(e)?.rel_type === "m.replace" && e.getSender() === alicePuppet, T, "the edit");
    expect(relation(edit)?.event_id).toBe(original.getId());
    expect((edit.getContent()["m.new_content"] as { body?: string }).body).toBe("RF: the typo");
  });

  it("a Matrix member's edit corrects his puppet's groupchat", async () => {
    const eventId = await bob.say(roomId, { msgtype: "m.text", body: "RF: wrnog" });
    const got = await alice.inbox.next((s) => fromBob(s) && bodyOf(s) === "RF: wrnog", T, "the original");
    await bob.say(roomId, { msgtype: "m.text", body: "* RF: wrong", "m.new_content": { msgtype: "m.text", body: "RF: wrong" }, "m.relates_to": { rel_type: "m.replace", event_id: eventId } });
    const fixed = await alice.inbox.next((s) => fromBob(s) && s.getChild("replace", NS_CORRECT) !== undefined, T, "the correction");
    expect(fixed.getChild("replace", NS_CORRECT)!.attrs.id).toBe(got.attrs.id);
    expect(bodyOf(fixed)).toBe("RF: wrong");
  });
});

describe("typing in a linked room (XEP-0085 in groupchat ↔ m.typing)", () => {
  it("an occupant's chat states show as her puppet typing in the Matrix room, then stopping", async () => {
    await groupchat(xml("composing", { xmlns: NS_CHATSTATES }));
    await expect.poll(() => typing.some((t) => t.userId === alicePuppet && t.typing), { timeout: T }).toBe(true);
    await groupchat(xml("paused", { xmlns: NS_CHATSTATES }));
    await expect.poll(() => typing.filter((t) => t.userId === alicePuppet).at(-1)?.typing, { timeout: T }).toBe(false);
  });

  it("a Matrix member's typing reaches the MUC as his puppet's composing, then paused, with no body", async () => {
    await bob.client.sendTyping(roomId, true, 20_000);
    const composing = await alice.inbox.next((s) => fromBob(s) && s.getChild("composing", NS_CHATSTATES) !== undefined, T, "composing");
    expect(composing.getChild("body")).toBeUndefined();
    await bob.client.sendTyping(roomId, false, 0);
    await alice.inbox.next((s) => fromBob(s) && s.getChild("paused", NS_CHATSTATES) !== undefined, T, "paused");
  });
});

describe("read markers in a linked room (XEP-0333 in groupchat ↔ m.read receipts)", () => {
  it("an occupant's displayed marker becomes her puppet's read receipt on the Matrix message", async () => {
    await groupchat(xml("displayed", { xmlns: NS_MARKERS, id: bobMucId }));
    const receipt = await bob.waitForReceipt(bobEvent, alicePuppet, T);
    expect(receipt.roomId).toBe(roomId);
  });

  it("a Matrix member's read receipt reaches the MUC as his puppet's displayed marker on her message", async () => {
    await bob.client.sendReadReceipt(aliceSeen);
    const marker = await alice.inbox.next((s) => fromBob(s) && s.getChild("displayed", NS_MARKERS) !== undefined, T, "displayed marker");
    expect(marker.getChild("displayed", NS_MARKERS)!.attrs.id).toBe(aliceId);
    expect(marker.getChild("body")).toBeUndefined();
  });
});

describe("polls, locations and stickers from a member of a linked room", () => {
  const botNoticeAbout = (eventId: string) => (e: MatrixEvent) => inRoom(e) && (e.getSender() ?? "").includes(synapse.appservices[SLOT]!.botLocalpart)
    && e.getContent().msgtype === "m.notice" && (relation(e)?.["m.in_reply_to"] as { event_id?: string } | undefined)?.event_id === eventId;

  it("a poll reaches the MUC as its question and numbered answers, and the member is told votes are not bridged", async () => {
    const poll = PollStartEvent.from("Room poll: when?", ["Today", "Tomorrow"], M_POLL_KIND_DISCLOSED).serialize();
    const { event_id: pollId } = await bob.client.sendEvent(roomId, poll.type as never, poll.content as never);
    const got = await alice.inbox.next((s) => fromBob(s) && bodyOf(s).includes("Room poll: when?"), T, "the poll in the MUC");
    expect(bodyOf(got)).toBe("Poll: Room poll: when?\n1. Today\n2. Tomorrow");
    const told = await bob.waitForEvent(botNoticeAbout(pollId), T, "the bot's poll notice");
    expect(String(told.getContent().body)).toMatch(/Votes and results are not bridged/);
  });

  it("a location reaches the MUC as a body that is exactly its geo: URI", async () => {
    await bob.say(roomId, { msgtype: "m.location", body: "Room: the venue", geo_uri: "geo:47.3769,8.5417" });
    const got = await alice.inbox.next((s) => fromBob(s) && bodyOf(s).startsWith("geo:"), T, "the location in the MUC");
    expect(bodyOf(got)).toBe("geo:47.3769,8.5417");
  });

  it("a sticker reaches the MUC as an image named by its description: an OOB link to the same bytes", async () => {
    const sticker = png(32, 32, 21);
    const mxc = await matrixUpload(bob, sticker, "sticker.png", "image/png");
    await bob.client.sendEvent(roomId, "m.sticker" as never, { body: "Room sticker", url: mxc, info: { mimetype: "image/png", w: 32, h: 32, size: sticker.length } } as never);
    const got = await alice.inbox.next((s) => fromBob(s) && s.getChild("x", NS_OOB)?.getChildText("desc") === "Room sticker", T, "the sticker in the MUC");
    const url = got.getChild("x", NS_OOB)!.getChildText("url")!;
    expect(bodyOf(got)).toBe(url);
    expect(sha256((await download(url)).data)).toBe(sha256(sticker));
  });

  it("a sticker whose file cannot be fetched gets the bot's notice with the reason instead of vanishing", async () => {
    const { event_id: stickerId } = await bob.client.sendEvent(roomId, "m.sticker" as never, { body: "Lost sticker", url: "mxc://example.org/none", info: { mimetype: "image/png", w: 32, h: 32 } } as never);
    const told = await bob.waitForEvent(botNoticeAbout(stickerId), T, "the bot's sticker notice");
    expect(String(told.getContent().body)).toMatch(/^⚠ Not bridged: /);
  });
});

describe("files in a linked room (OOB links ↔ m.image ↔ attachments), identical bytes every way", () => {
  const botNoticeAbout = (eventId: string) => (e: MatrixEvent) => inRoom(e) && (e.getSender() ?? "").includes(synapse.appservices[SLOT]!.botLocalpart)
    && e.getContent().msgtype === "m.notice" && (relation(e)?.["m.in_reply_to"] as { event_id?: string } | undefined)?.event_id === eventId;
  const oobOf = (s: Stanza) => s.getChild("x", NS_OOB);
  const listFile = async (name: string) => {
    const got = await waitForMail(inbox, (m) => toCarol(m) && m.raw.includes(name), T);
    return { mail: got, file: (await mailFiles(got.raw)).files.find((f) => f.name === name) };
  };

  it("a Matrix member's image reaches the MUC occupants as an OOB link serving the same bytes, and the list members as an attachment", async () => {
    const image = png(64, 48, 13);
    const mxc = await matrixUpload(bob, image, "room-photo.png", "image/png");
    await bob.say(roomId, { msgtype: "m.image", body: "the room photo", filename: "room-photo.png", url: mxc, info: { mimetype: "image/png", size: image.length, w: 64, h: 48 } });
    const got = await alice.inbox.next((s) => fromBob(s) && oobOf(s)?.getChildText("desc") === "room-photo.png", T, "the image in the MUC");
    const url = oobOf(got)!.getChildText("url")!;
    expect(bodyOf(got)).toBe(url); // what XMPP clients show inline
    expect(alice.inbox.seen.some((s) => fromBob(s) && bodyOf(s) === "the room photo")).toBe(true); // the caption, before it
    const served = await download(url);
    expect(served.contentType).toBe("image/png");
    expect(sha256(served.data)).toBe(sha256(image));
    const { mail, file } = await listFile("room-photo.png");
    expect(mail.raw.toString()).toContain("the room photo");
    expect(file?.type).toBe("image/png");
    expect(sha256(file!.data)).toBe(sha256(image));
  });

  it("an occupant's image (a XEP-0363 upload sent as OOB) reaches the Matrix room as her puppet's m.image, and the list, with the same bytes", async () => {
    const image = png(48, 40, 17);
    const url = await xmppUpload(alice, prosody, image, "muc-photo.png", "image/png");
    await groupchat(xml("body", {}, url), xml("x", { xmlns: NS_OOB }, xml("url", {}, url)));
    const ev = await bob.waitForEvent((e) => inRoom(e) && e.getSender() === alicePuppet && e.getContent().filename === "muc-photo.png", T, "the image in the Matrix room");
    const c = ev.getContent();
    expect(c.msgtype).toBe("m.image");
    expect(c.body).toBe("muc-photo.png"); // the body was only the URL: no caption
    expect(c.info).toMatchObject({ mimetype: "image/png", size: image.length, w: 48, h: 40 });
    expect(sha256(await matrixDownload(bob, String(c.url)))).toBe(sha256(image));
    const { file } = await listFile("muc-photo.png");
    expect(sha256(file!.data)).toBe(sha256(image));
  });

  it("a list member's mail with an attachment reaches the Matrix room as an m.image and the MUC as an OOB link, the same bytes", async () => {
    const image = png(40, 30, 19);
    const raw = await mailWithFiles({ from: carol, to: LIST, subject: "a picture", text: "RF: photo from the list", files: [{ name: "list-photo.png", type: "image/png", data: image }], sign: mailboxSigner("example.org") });
    expect((await smtpSend(mta.smtpPort, { from: carol, to: [LIST] }, raw)).final).toBe(250);
    const ev = await bob.waitForEvent((e) => inRoom(e) && e.getSender() === carolPuppet && e.getContent().filename === "list-photo.png", T, "the attachment in the Matrix room");
    expect(ev.getContent().msgtype).toBe("m.image");
    expect(sha256(await matrixDownload(bob, String(ev.getContent().url)))).toBe(sha256(image));
    const got = await alice.inbox.next((s) => s.is("message") && s.attrs.type === "groupchat" && oobOf(s)?.getChildText("desc") === "list-photo.png", T, "the attachment in the MUC");
    expect(sha256((await download(oobOf(got)!.getChildText("url")!)).data)).toBe(sha256(image));
  });

  it("a file within the Matrix member's limits but over the MUC's: the list gets it, the member is told it did not reach the MUC, naming the limit", async () => {
    const mid = pdf("over the room's limit", MUC_FILE_LIMIT + 30_000);
    const mxc = await matrixUpload(bob, mid, "mid-room.pdf", "application/pdf");
    await bob.say(roomId, { msgtype: "m.file", body: "mid-room.pdf", filename: "mid-room.pdf", url: mxc, info: { mimetype: "application/pdf", size: mid.length } });
    const { file } = await listFile("mid-room.pdf");
    expect(sha256(file!.data)).toBe(sha256(mid));
    const told = await bob.waitForEvent((e) => e.getContent().msgtype === "m.notice" && String(e.getContent().body).includes(`Not delivered to the room ${MUC}`) && String(e.getContent().body).includes("mid-room.pdf"), T, "the failure notice");
    expect(String(told.getContent().body)).toContain(String(MUC_FILE_LIMIT));
    await bobSentinel("RF: after the mid file");
    expect(alice.inbox.seen.some((s) => oobOf(s)?.getChildText("desc") === "mid-room.pdf")).toBe(false);
  });

  it("a file over the limit: the Matrix member gets the bot's notice naming it, the occupant a private message naming it; neither crosses", async () => {
    const big = pdf("too big for the room", CHAT_FILE_LIMIT + 50_000);
    const mxc = await matrixUpload(bob, big, "huge-room.pdf", "application/pdf");
    const eventId = await bob.say(roomId, { msgtype: "m.file", body: "huge-room.pdf", filename: "huge-room.pdf", url: mxc, info: { mimetype: "application/pdf", size: big.length } });
    const told = await bob.waitForEvent(botNoticeAbout(eventId), T, "the bot's notice");
    expect(String(told.getContent().body)).toContain(String(CHAT_FILE_LIMIT));
    const url = await xmppUpload(alice, prosody, big, "huge-muc.pdf", "application/pdf");
    await groupchat(xml("body", {}, url), xml("x", { xmlns: NS_OOB }, xml("url", {}, url)));
    const pm = await alice.inbox.next((s) => s.is("message") && s.attrs.type === "chat" && String(s.attrs.from).startsWith(`${MUC}/`) && bodyOf(s).startsWith("⚠ Not bridged"), T, "the listener's private message");
    expect(bodyOf(pm)).toContain(String(CHAT_FILE_LIMIT));
    await bobSentinel("RF: after the big files");
    await groupchat(xml("body", {}, "RF: after the big file"));
    await bob.waitForMessage("RF: after the big file", alicePuppet, T);
    expect(alice.inbox.seen.some((s) => oobOf(s)?.getChildText("desc") === "huge-room.pdf")).toBe(false);
    expect(bob.events.some((e) => inRoom(e) && e.getSender() === alicePuppet && String(e.getContent().body ?? "").includes("huge-muc.pdf"))).toBe(false);
  });
});
