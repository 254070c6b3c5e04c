/**
 * Issue 18 in rooms: moderation both ways between a linked MUC room and a Matrix room. The MUC is
 * on the harness's moderated MUC host (`moderated.<domain>`: muc_mam for the room's stanza-ids,
 * mod_muc_moderation for XEP-0425 0.2). A MUC moderator's XEP-0425 request becomes the bridge
 * bot's redaction of the Matrix event (once the bot has the room's `redact` power; before, it is
 * dropped with a reason), and a Matrix member whose power level allows `redact` redacting someone
 * else's message becomes an XEP-0425 moderation in the MUC by Parley's listener occupant (once the
 * room's owner made it a moderator; before, dropped with a reason). Each test reads the native
 * stanza or event the receiving client sees.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { Preset, Visibility, type MatrixEvent } from "matrix-js-sdk";
import { asNetworkId, canonicalAddress } from "../../../src/model/address.js";
import { linkedRoomKey } from "../../../src/model/room.js";
import { RoomDirectory } from "../../../src/mappings/room-directory.js";
import type { TestGateway } from "../../support/gateway.js";
import { connectUser, LogCapture, xml, type Stanza, type TestUser } from "../xmpp/support.js";
import { startUser, uniqueName, type TestMatrixUser } from "../../harness/synapse/clients.js";
import { mtaCoordinates } from "../../harness/mta/inject.js";
import { startCrossGateway } from "./gateway.js";
import { NS_MUC } from "../../support/xmpp-namespaces.js";

/** XEP-0425 0.2 as Prosody's mod_muc_moderation speaks it (spelt from the XEP, not the adapter). */
const NS_FASTEN = "urn:xmpp:fasten:0";
const NS_MODERATE = "urn:xmpp:message-moderate:0";
const NS_RETRACT_0 = "urn:xmpp:message-retract:0";
const NS_SID = "urn:xmpp:sid:0";

const SLOT = 18;
const T = 30_000;
const prosody = inject("prosody");
const synapse = inject("synapse");
const STAMP = Date.now().toString(36);
const MUC = `mod-${STAMP}@moderated.${prosody.userDomain}`;

let gw: TestGateway;
let alice: TestUser;
let bob: TestMatrixUser;
let roomId: string;
let bot: string;
/** The listener occupant's real JID (Parley's component), as the room shows it to its owner. */
let listenerJid: string;
const logs = new LogCapture();
let n = 0;
const uid = () => `rm-${STAMP}-${++n}`;

const inRoom = (e: MatrixEvent) => e.getRoomId() === roomId;
const redacts = (e: MatrixEvent) => e.event.redacts ?? e.getContent<{ redacts?: string }>().redacts;
const bodyOf = (s: Stanza) => s.getChildText("body") ?? "";
/** The stanza-id the room gave a groupchat (its MAM id): what XEP-0425 names a message by. */
const roomSid = (s: Stanza) => s.getChildren("stanza-id").find((c) => c.attrs.xmlns === NS_SID && c.attrs.by === MUC)?.attrs.id;
const announcement = (sid: string) => (s: Stanza) => s.is("message") && s.attrs.from === MUC && s.getChild("apply-to", NS_FASTEN)?.attrs.id === sid;
const dropped = (network: string, messageFrom: string) => (l: Record<string, unknown>) => l.event === "feature-dropped" && l.feature === "moderation" && l.network === network && l.from === messageFrom;
/** A Matrix user's canonical address (`@local:server` → `local@server`). */
const canonicalOf = (userId: string) => userId.slice(1).replace(":", "@");

/** Alice (the room's owner, so a moderator) moderates the message the room calls `sid`. */
async function moderate(sid: string, reason: string): Promise<void> {
  const id = uid();
  await alice.send(xml("iq", { type: "set", to: MUC, id }, xml("apply-to", { xmlns: NS_FASTEN, id: sid },
    xml("moderate", { xmlns: NS_MODERATE }, xml("retract", { xmlns: NS_RETRACT_0 }), xml("reason", {}, reason)))));
  expect((await alice.inbox.next((s) => s.name === "iq" && s.attrs.id === id, 10_000, "the room's answer to the moderation")).attrs.type).toBe("result");
}

/** A message of Bob's in the Matrix room, as Alice's client sees it in the MUC (with the room's stanza-id). */
async function bobSays(text: string): Promise<{ eventId: string; sid: string }> {
  const eventId = await bob.say(roomId, { msgtype: "m.text", body: text });
  const got = await alice.inbox.next((s) => s.is("message") && s.attrs.type === "groupchat" && bodyOf(s) === text, T, text);
  return { eventId, sid: roomSid(got)! };
}

/** A groupchat of Alice's, its stanza-id, and its event in the Matrix room. */
async function aliceSays(text: string): Promise<{ sid: string; eventId: string }> {
  await alice.send(xml("message", { to: MUC, type: "groupchat", id: uid() }, xml("body", {}, text)));
  const own = await alice.inbox.next((s) => s.is("message") && s.attrs.from === `${MUC}/alice` && bodyOf(s) === text, T, `${text} reflected`);
  const seen = await bob.waitForMessage(text, undefined, T);
  return { sid: roomSid(own)!, eventId: seen.getId()! };
}

beforeAll(async () => {
  alice = await connectUser("alice", { resource: "room-moderation" });
  await alice.send(xml("presence", { to: `${MUC}/alice` }, xml("x", { xmlns: NS_MUC }, xml("history", { maxchars: "0" }))));
  await alice.inbox.next((s) => s.name === "presence" && s.attrs.from === `${MUC}/alice`, 10_000, "MUC self-presence");
  await alice.send(xml("iq", { type: "set", to: MUC, id: "cfg" }, xml("query", { xmlns: "http://jabber.org/protocol/muc#owner" }, xml("x", { xmlns: "jabber:x:data", type: "submit" },
    xml("field", { var: "FORM_TYPE" }, xml("value", {}, "http://jabber.org/protocol/muc#roomconfig")),
    xml("field", { var: "muc#roomconfig_whois" }, xml("value", {}, "anyone"))))));
  expect((await alice.inbox.next((s) => s.name === "iq" && s.attrs.id === "cfg", 10_000, "room configuration")).attrs.type).toBe("result");
  bob = await startUser(synapse.baseUrl, synapse.registrationSharedSecret, uniqueName("bob"));
  ({ room_id: roomId } = await bob.client.createRoom({ preset: Preset.PublicChat, visibility: Visibility.Private, name: "moderation" }));
  const [xmpp, matrix] = [asNetworkId("xmpp"), asNetworkId("matrix")];
  const link = {
    key: linkedRoomKey("moderation"), origin: "linked" as const, name: "moderation", home: xmpp, address: canonicalAddress(MUC),
    natives: new Map([[xmpp, { network: xmpp, id: MUC }], [matrix, { network: matrix, id: roomId }]]), source: { file: "<test>", line: 0 },
  };
  ({ gw } = await startCrossGateway({ prosody, synapse, mta: mtaCoordinates() }, SLOT, logs.logger, undefined, {}, (m) => ({ ...m, rooms: new RoomDirectory([link]) })));
  const member = await bob.waitForEvent((e) => e.getType() === "m.room.member" && inRoom(e) && (e.getStateKey() ?? "").includes(synapse.appservices[SLOT]!.botLocalpart), T, "the bridge bot in the room");
  bot = member.getStateKey()!;
  const listener = await alice.inbox.next((s) => s.name === "presence" && s.attrs.from === `${MUC}/parley-bridge`, T, "the listener occupant");
  listenerJid = listener.getChildren("x").find((x) => x.attrs.xmlns === `${NS_MUC}#user`)!.getChild("item")!.attrs.jid!;
}, 120_000);

afterAll(async () => {
  bob?.stop();
  await alice?.stop();
  await gw?.destroy();
});

describe("XEP-0425 moderation in the MUC → the bridge bot's redaction in the Matrix room", () => {
  it("with less than the room's redact power, the bot's redaction is refused: dropped with a reason, the Matrix message stays", async () => {
    const m = await bobSays("RM: moderate me (bot powerless)");
    await moderate(m.sid, "too early");
    await expect.poll(() => logs.lines.some(dropped("matrix", alice.bare)), { timeout: T }).toBe(true);
    // The moderator is told, in a chat message from Parley's component (the MUC has no puppet; adapters/xmpp/muc/status.ts).
    const told = await alice.inbox.next((s) => s.is("message") && s.attrs.type === "chat" && bodyOf(s).includes("redact"), T, "the moderator told");
    expect(told.attrs.from).toBe(listenerJid.split("/")[0]);
    expect(bob.events.some((e) => e.getType() === "m.room.redaction" && redacts(e) === m.eventId)).toBe(false);
  });

  it("a MUC moderator's moderation of a Matrix member's message redacts it, by the bridge bot, with the reason", async () => {
    await bob.client.setPowerLevel(roomId, bot, 50);
    const m = await bobSays("RM: moderate me");
    await moderate(m.sid, "spam");
    const redaction = await bob.waitForEvent((e) => inRoom(e) && e.getType() === "m.room.redaction" && redacts(e) === m.eventId, T, "the moderation as a redaction");
    expect(redaction.getSender()).toBe(bot);
    const reason = String(redaction.getContent<{ reason?: string }>().reason ?? "");
    expect(reason).toContain("spam");
    expect(reason).toContain(alice.bare);
  });

  it("a MUC moderator's moderation of another occupant's message (bridged from XMPP) redacts it too", async () => {
    const dave = await connectUser("dave", { resource: "room-moderation" });
    try {
      await dave.send(xml("presence", { to: `${MUC}/dave` }, xml("x", { xmlns: NS_MUC }, xml("history", { maxchars: "0" }))));
      await dave.inbox.next((s) => s.name === "presence" && s.attrs.from === `${MUC}/dave`, 10_000, "Dave's MUC self-presence");
      await dave.send(xml("message", { to: MUC, type: "groupchat", id: uid() }, xml("body", {}, "RM: dave's spam")));
      const got = await alice.inbox.next((s) => s.is("message") && s.attrs.from === `${MUC}/dave` && bodyOf(s) === "RM: dave's spam", T, "Dave's message");
      const seen = await bob.waitForMessage("RM: dave's spam", undefined, T);
      await moderate(roomSid(got)!, "not here");
      const redaction = await bob.waitForEvent((e) => inRoom(e) && e.getType() === "m.room.redaction" && redacts(e) === seen.getId(), T, "Dave's message redacted");
      expect(redaction.getSender()).toBe(bot);
    } finally {
      await dave.stop();
    }
  });
});

describe("a Matrix moderator's redaction of someone else's message → XEP-0425 moderation in the MUC", () => {
  it("with no moderator occupant of Parley's in the room, it is dropped with a reason and the message stays in the MUC", async () => {
    const m = await aliceSays("RM: redact me (no moderator occupant)");
    await bob.client.redactEvent(roomId, m.eventId, undefined, { reason: "too early" });
    await expect.poll(() => logs.lines.some(dropped("xmpp", canonicalOf(bob.userId))), { timeout: T }).toBe(true);
    // The moderator is told, in a notice replying to his redaction.
    await bob.waitForEvent((e) => e.getType() === "m.room.message" && e.getContent().msgtype === "m.notice" && String(e.getContent().body).includes("neither the moderator's puppet nor Parley's occupant is a moderator"), T, "the moderator told");
    expect(alice.inbox.seen.some(announcement(m.sid))).toBe(false);
  });

  it("once the room's owner made Parley's occupant a moderator, the redaction moderates the occupant's message, with the reason", async () => {
    const id = uid();
    await alice.send(xml("iq", { type: "set", to: MUC, id }, xml("query", { xmlns: "http://jabber.org/protocol/muc#admin" }, xml("item", { jid: listenerJid.split("/")[0], affiliation: "admin" }))));
    expect((await alice.inbox.next((s) => s.name === "iq" && s.attrs.id === id, 10_000, "the affiliation change")).attrs.type).toBe("result");
    const m = await aliceSays("RM: redact me");
    await bob.client.redactEvent(roomId, m.eventId, undefined, { reason: "off topic" });
    const moderated = await alice.inbox.next(announcement(m.sid), T, "the moderation announcement");
    const tag = moderated.getChild("apply-to", NS_FASTEN)!.getChild("moderated", NS_MODERATE)!;
    expect(tag.getChild("retract", NS_RETRACT_0)).toBeDefined();
    expect(tag.getChildText("reason")).toBe("off topic");
    expect(tag.attrs.by).toBe(`${MUC}/parley-bridge`);
    // Parley's own moderation coming back from the room is not bridged again.
    expect(logs.lines.some((l) => String(l.msg).startsWith("moderation of a room message Parley does not know"))).toBe(false);
  });
});
