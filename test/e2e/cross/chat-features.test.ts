/**
 * Issue 18: reactions, retractions, replies, typing and read markers between a real XMPP client
 * (@xmpp/client on Prosody) and a real Matrix client (matrix-js-sdk on Synapse), through one
 * gateway, both ways. Each test reads the native stanza or event the receiving client sees.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RoomMemberEvent, type MatrixEvent } from "matrix-js-sdk";
import { xml, type Stanza } from "../xmpp/support.js";
import { bodyOf, startCrossRig, type CrossRig } from "./rig.js";
import { NS_REACTIONS, NS_RETRACT, NS_REPLY, NS_CHATSTATES, NS_MARKERS } from "../../support/xmpp-namespaces.js";
import { PollStartEvent } from "matrix-js-sdk/lib/extensible_events_v1/PollStartEvent.js";
import { PollResponseEvent } from "matrix-js-sdk/lib/extensible_events_v1/PollResponseEvent.js";
import { M_POLL_KIND_DISCLOSED } from "matrix-js-sdk/lib/@types/polls.js";

const SLOT = 10;
const T = 30_000;

let r: CrossRig;
let bobJid: string;
let alicePuppet: string;
let room: string;
/** Alice's first message: her stanza id, and its event in Bob's DM. */
let aliceId: string;
let aliceEvent: string;
/** Bob's first message: its event, and the stanza id Alice's client knows it by. */
let bobEvent: string;
let bobStanzaId: string;
const typing: Array<{ userId: string; typing: boolean }> = [];
const run = Date.now().toString(36);
let n = 0;
const uid = () => `cf-${run}-${++n}`;

const fromBob = (s: Stanza) => s.is("message") && String(s.attrs.from).split("/")[0] === bobJid;
const relation = (e: MatrixEvent) => e.getContent<{ "m.relates_to"?: Record<string, unknown> }>()["m.relates_to"];
const redacts = (e: MatrixEvent) => e.event.redacts ?? e.getContent<{ redacts?: string }>().redacts;

beforeAll(async () => {
  r = await startCrossRig(SLOT, "features");
  bobJid = r.on("xmpp", r.bobEp);
  alicePuppet = r.on("matrix", r.aliceEp);
  r.bob.client.on(RoomMemberEvent.Typing, (_e, member) => typing.push({ userId: member.userId, typing: member.typing }));
  aliceId = uid();
  await r.alice.send(xml("message", { type: "chat", to: bobJid, id: aliceId }, xml("body", {}, "Features: hello Bob")));
  const seen = await r.bob.waitForMessage("Features: hello Bob", alicePuppet, T);
  room = seen.getRoomId()!;
  aliceEvent = seen.getId()!;
  await r.bob.waitForEvent((e) => e.getRoomId() === room && e.getStateKey() === r.bob.userId && e.getContent().membership === "join", T, "Bob joined");
  bobEvent = await r.bob.say(room, { msgtype: "m.text", body: "Features: hi Alice" });
  const got = await r.alice.inbox.next((s) => fromBob(s) && bodyOf(s) === "Features: hi Alice", T, "Bob's message");
  bobStanzaId = got.attrs.id!;
});
afterAll(async () => { await r?.stop(); });

describe("reactions (XEP-0444 ↔ m.reaction)", () => {
  it("an XMPP user's reactions become the puppet's annotations, and removing one redacts it", async () => {
    await r.alice.send(xml("message", { type: "chat", to: bobJid, id: uid() }, xml("reactions", { xmlns: NS_REACTIONS, id: bobStanzaId }, xml("reaction", {}, "👍"), xml("reaction", {}, "🎉"))));
    const isReaction = (key: string) => (e: MatrixEvent) => e.getType() === "m.reaction" && e.getSender() === alicePuppet && relation(e)?.event_id === bobEvent && relation(e)?.key === key;
    const thumbs = await r.bob.waitForEvent(isReaction("👍"), T, "👍 on Bob's message");
    await r.bob.waitForEvent(isReaction("🎉"), T, "🎉 on Bob's message");
    expect(relation(thumbs)?.rel_type).toBe("m.annotation");
    await r.alice.send(xml("message", { type: "chat", to: bobJid, id: uid() }, xml("reactions", { xmlns: NS_REACTIONS, id: bobStanzaId }, xml("reaction", {}, "🎉"))));
    const gone = await r.bob.waitForEvent((e) => e.getType() === "m.room.redaction" && redacts(e) === thumbs.getId(), T, "the 👍 redacted");
    expect(gone.getSender()).toBe(alicePuppet);
  });

  it("a Matrix user's reactions reach the XMPP user as their whole set on her own message, and a redacted reaction leaves it", async () => {
    const rx = await r.bob.client.sendEvent(room, "m.reaction" as never, { "m.relates_to": { rel_type: "m.annotation", event_id: aliceEvent, key: "❤️" } } as never);
    const shown = await r.alice.inbox.next((s) => fromBob(s) && s.getChild("reactions", NS_REACTIONS) !== undefined, T, "Bob's reaction");
    const set = shown.getChild("reactions", NS_REACTIONS)!;
    expect(set.attrs.id).toBe(aliceId);
    expect(set.getChildren("reaction").map((k) => k.text())).toEqual(["❤️"]);
    await r.bob.client.redactEvent(room, rx.event_id);
    const emptied = await r.alice.inbox.next((s) => fromBob(s) && s.getChild("reactions", NS_REACTIONS) !== undefined, T, "Bob's reaction removed");
    expect(emptied.getChild("reactions", NS_REACTIONS)!.getChildren("reaction")).toHaveLength(0);
  });
});

describe("retractions (XEP-0424 ↔ redactions), only by the original sender", () => {
  it("an XMPP user's retraction redacts her message on Matrix", async () => {
    const id = uid();
    await r.alice.send(xml("message", { type: "chat", to: bobJid, id }, xml("body", {}, "Features: oops")));
    const oops = await r.bob.waitForMessage("Features: oops", alicePuppet, T);
    await r.alice.send(xml("message", { type: "chat", to: bobJid, id: uid() }, xml("retract", { xmlns: NS_RETRACT, id }), xml("body", {}, "retracted")));
    const redaction = await r.bob.waitForEvent((e) => e.getType() === "m.room.redaction" && redacts(e) === oops.getId(), T, "the redaction");
    expect(redaction.getSender()).toBe(alicePuppet);
  });

  it("a Matrix user's redaction of his own message retracts it on XMPP", async () => {
    const eventId = await r.bob.say(room, { msgtype: "m.text", body: "Features: mistake" });
    const got = await r.alice.inbox.next((s) => fromBob(s) && bodyOf(s) === "Features: mistake", T, "the mistake");
    await r.bob.client.redactEvent(room, eventId);
    const retract = await r.alice.inbox.next((s) => fromBob(s) && s.getChild("retract", NS_RETRACT) !== undefined, T, "the retraction");
    expect(retract.getChild("retract", NS_RETRACT)!.attrs.id).toBe(got.attrs.id);
  });

  it("an XMPP user cannot retract a message she did not send: item-not-found, and nothing is redacted", async () => {
    await r.alice.send(xml("message", { type: "chat", to: bobJid, id: "not-mine" }, xml("retract", { xmlns: NS_RETRACT, id: bobStanzaId })));
    const err = await r.alice.inbox.next((s) => s.attrs.type === "error" && s.attrs.id === "not-mine", T, "the error");
    expect(err.getChild("error")?.getChild("item-not-found")).toBeDefined();
    expect(r.bob.events.some((e) => e.getType() === "m.room.redaction" && redacts(e) === bobEvent)).toBe(false);
  });
});

describe("retractions: a Matrix room admin's redaction of someone else's message", () => {
  it("is not bridged: the XMPP user's message stays (the next message arrives with no retraction before it)", async () => {
    const id = uid();
    await r.alice.send(xml("message", { type: "chat", to: bobJid, id }, xml("body", {}, "Features: moderate me")));
    const hers = await r.bob.waitForMessage("Features: moderate me", alicePuppet, T);
    await r.bob.client.redactEvent(room, hers.getId()!);
    await r.bob.say(room, { msgtype: "m.text", body: "Features: after the moderation" });
    await r.alice.inbox.next((s) => fromBob(s) && bodyOf(s) === "Features: after the moderation", T, "the next message");
    expect(r.alice.inbox.seen.some((s) => s.getChild("retract", NS_RETRACT) !== undefined)).toBe(false);
  });
});

describe("replies (XEP-0461 ↔ m.in_reply_to)", () => {
  it("an XMPP reply points at the Matrix message, without the quoted fallback", async () => {
    const quote = "> Features: hi Alice\n";
    await r.alice.send(xml("message", { type: "chat", to: bobJid, id: uid() },
      xml("body", {}, `${quote}Features: my answer`),
      xml("reply", { xmlns: NS_REPLY, id: bobStanzaId, to: bobJid }),
      xml("fallback", { xmlns: "urn:xmpp:fallback:0", for: NS_REPLY }, xml("body", { start: "0", end: String([...quote].length) }))));
    const reply = await r.bob.waitForMessage("Features: my answer", alicePuppet, T);
    expect((relation(reply)?.["m.in_reply_to"] as { event_id?: string })?.event_id).toBe(bobEvent);
    expect(reply.getContent().body).toBe("Features: my answer");
  });

  it("a Matrix reply reaches the XMPP user pointing at her own message", async () => {
    await r.bob.say(room, { msgtype: "m.text", body: "Features: replying", "m.relates_to": { "m.in_reply_to": { event_id: aliceEvent } } });
    const got = await r.alice.inbox.next((s) => fromBob(s) && bodyOf(s) === "Features: replying", T, "Bob's reply");
    expect(got.getChild("reply", NS_REPLY)?.attrs.id).toBe(aliceId);
  });
});

describe("typing (XEP-0085 ↔ m.typing) and read markers (XEP-0333 ↔ read receipts)", () => {
  it("an XMPP user's chat states show as the puppet typing and stopping", async () => {
    await r.alice.send(xml("message", { type: "chat", to: bobJid }, xml("composing", { xmlns: NS_CHATSTATES })));
    await expect.poll(() => typing.some((t) => t.userId === alicePuppet && t.typing), { timeout: T }).toBe(true);
    await r.alice.send(xml("message", { type: "chat", to: bobJid }, xml("paused", { xmlns: NS_CHATSTATES })));
    await expect.poll(() => typing.filter((t) => t.userId === alicePuppet).at(-1)?.typing, { timeout: T }).toBe(false);
  });

  it("a Matrix user's typing reaches the XMPP user as composing, then paused", async () => {
    await r.bob.client.sendTyping(room, true, 20_000);
    await r.alice.inbox.next((s) => fromBob(s) && s.getChild("composing", NS_CHATSTATES) !== undefined, T, "composing");
    await r.bob.client.sendTyping(room, false, 0);
    await r.alice.inbox.next((s) => fromBob(s) && s.getChild("paused", NS_CHATSTATES) !== undefined, T, "paused");
  });

  it("an XMPP displayed marker becomes the puppet's read receipt on the Matrix message", async () => {
    await r.alice.send(xml("message", { type: "chat", to: bobJid, id: uid() }, xml("displayed", { xmlns: NS_MARKERS, id: bobStanzaId })));
    const receipt = await r.bob.waitForReceipt(bobEvent, alicePuppet, T);
    expect(receipt.roomId).toBe(room);
  });

  it("a Matrix read receipt answers the XMPP user's markable message with displayed", async () => {
    const id = uid();
    await r.alice.send(xml("message", { type: "chat", to: bobJid, id }, xml("body", {}, "Features: read me"), xml("markable", { xmlns: NS_MARKERS })));
    const seen = await r.bob.waitForMessage("Features: read me", alicePuppet, T);
    await r.bob.client.sendReadReceipt(seen);
    const marker = await r.alice.inbox.next((s) => fromBob(s) && s.getChild("displayed", NS_MARKERS) !== undefined, T, "displayed marker");
    expect(marker.getChild("displayed", NS_MARKERS)!.attrs.id).toBe(id);
  });
});

/** Bob's notices from Alice's puppet in reply to `eventId`. */
const isNoticeAbout = (eventId: string) => (e: MatrixEvent) => e.getSender() === alicePuppet && e.getContent().msgtype === "m.notice" && (relation(e)?.["m.in_reply_to"] as { event_id?: string } | undefined)?.event_id === eventId;
const noticesAbout = (eventId: string) => r.bob.events.filter(isNoticeAbout(eventId));

describe("polls, locations and calls from a Matrix client", () => {
  it("a poll (as Element sends it) reaches the XMPP user as its question and numbered answers; the sender is told votes are not bridged, once", async () => {
    const poll = PollStartEvent.from("Features: lunch where?", ["Pizza", "Sushi", "Salad"], M_POLL_KIND_DISCLOSED).serialize();
    const { event_id: pollId } = await r.bob.client.sendEvent(room, poll.type as never, poll.content as never);
    const got = await r.alice.inbox.next((s) => fromBob(s) && bodyOf(s).includes("Features: lunch where?"), T, "the poll on XMPP");
    expect(bodyOf(got)).toBe("Poll: Features: lunch where?\n1. Pizza\n2. Sushi\n3. Salad");
    const told = await r.bob.waitForEvent(isNoticeAbout(pollId), T, "the poll notice");
    expect(String(told.getContent().body)).toMatch(/Votes and results are not bridged/);
    // A vote says nothing to anyone: the next message crosses, and no other notice came.
    const answers = (poll.content as Record<string, { answers: Array<{ id: string }> }>)["org.matrix.msc3381.poll.start"]!.answers;
    const vote = PollResponseEvent.from([answers[0]!.id], pollId).serialize();
    const { event_id: voteId } = await r.bob.client.sendEvent(room, vote.type as never, vote.content as never);
    await r.bob.say(room, { msgtype: "m.text", body: "Features: after the vote" });
    await r.alice.inbox.next((s) => fromBob(s) && bodyOf(s) === "Features: after the vote", T, "the message after the vote");
    expect(noticesAbout(voteId)).toHaveLength(0);
    expect(noticesAbout(pollId)).toHaveLength(1);
  });

  it("a Matrix location reaches the XMPP user as a body that is exactly its geo: URI (clients show a map)", async () => {
    await r.bob.say(room, { msgtype: "m.location", body: "Features: Big Ben", geo_uri: "geo:51.5008,0.1247;u=35" });
    const got = await r.alice.inbox.next((s) => fromBob(s) && bodyOf(s).startsWith("geo:"), T, "the location on XMPP");
    expect(bodyOf(got)).toBe("geo:51.5008,0.1247;u=35");
  });

  it("an XMPP location (a body that is a geo: URI, as Conversations sends it) arrives in Matrix as an m.location", async () => {
    await r.alice.send(xml("message", { type: "chat", to: bobJid, id: uid() }, xml("body", {}, "geo:48.2082,16.3738")));
    const ev = await r.bob.waitForEvent((e) => e.getSender() === alicePuppet && e.getContent().geo_uri !== undefined, T, "the m.location");
    expect(ev.getContent()).toMatchObject({ msgtype: "m.location", geo_uri: "geo:48.2082,16.3738", body: "geo:48.2082,16.3738" });
  });

  it("a call invite is refused (m.call.reject from the puppet) and answered with a notice that calls are not bridged, once per call", async () => {
    const invite = (callId: string) => r.bob.client.sendEvent(room, "m.call.invite" as never, {
      call_id: callId, party_id: "bobdevice", version: "1", lifetime: 60_000, offer: { type: "offer", sdp: "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" },
    } as never);
    const first = await invite(`call-${run}-1`);
    const again = await invite(`call-${run}-1`);
    const other = await invite(`call-${run}-2`);
    const told = await r.bob.waitForEvent(isNoticeAbout(first.event_id), T, "the call notice");
    expect(String(told.getContent().body)).toMatch(/Calls are not bridged/);
    // Refused as the callee (a version 1 call: m.call.reject), so Bob's client stops ringing.
    const rejected = await r.bob.waitForEvent((e) => e.getType() === "m.call.reject" && e.getContent().call_id === `call-${run}-1`, T, "the call's m.call.reject");
    expect(rejected.getSender()).toBe(alicePuppet);
    expect(rejected.getContent()).toMatchObject({ party_id: "parley", version: "1" });
    await r.bob.waitForEvent(isNoticeAbout(other.event_id), T, "the second call's notice");
    expect(noticesAbout(again.event_id)).toHaveLength(0);
  });
});
