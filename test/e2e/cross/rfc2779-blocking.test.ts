/**
 * RFC 2779 2.3.5 and 5.4.10 (the inbox's owner decides who may send to it; B can stop A sending)
 * and 5.1.15 (polite blocking) with real clients: an XMPP user blocking a Matrix user's puppet with
 * XEP-0191 — at her own server, as every client does (Prosody's mod_blocklist enforces it), and at
 * the gateway's component (Parley's canonical block list) — and a Matrix user blocking an XMPP user
 * through the bridge bot. Neither the blocked party's messages nor its presence arrive, and the
 * blocked party's answer is one it also gets when nobody blocks it.
 */
import { writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { xml, LogCapture, type Stanza } from "../xmpp/support.js";
import { until } from "../../support/until.js";
import { bodyOf, startCrossRig, type CrossRig } from "./rig.js";

const NS_BLOCKING = "urn:xmpp:blocking";
// Slot 3: no other cross test uses it.
let r: CrossRig;
const logs = new LogCapture();
let bobJid: string;
let alicePuppet: string;
let dm: string;
beforeAll(async () => {
  r = await startCrossRig(11, "owner-choice", logs.logger);
  bobJid = r.on("xmpp", r.bobEp);
  alicePuppet = r.on("matrix", r.aliceEp);
});
afterAll(async () => {
  await r?.stop();
  if (process.env.PARLEY_TEST_DUMP_LOG) writeFileSync(process.env.PARLEY_TEST_DUMP_LOG, logs.lines.map((l) => JSON.stringify(l)).join("\n"));
});

const statusFrom = (jid: string, status: string) => (s: Stanza) => s.is("presence") && s.attrs.from?.split("/")[0] === jid && s.getChildText("status") === status;
const notices = () => r.bob.events.filter((e) => e.getSender() === alicePuppet && String(e.getContent().body ?? "").startsWith("⚠"));

/** Bob's presence `status` has been handed to the XMPP adapter's link for every watcher it may reach. */
async function presenceHandedOver(status: string): Promise<void> {
  const mark = logs.lines.length;
  await r.bob.client.setPresence({ presence: "online", status_msg: status });
  await until("the fan-out of Bob's presence to run", () => (logs.lines.slice(mark).some((l) => l.msg === "presence batch delivered" && String(l.presentity).includes(r.bobEp.address)) ? true : undefined), 30_000);
}

describe("RFC 2779 blocking by the user, with real clients", () => {
  it("setup: Alice and Bob talk, and Alice sees Bob's presence", async () => {
    await r.alice.send(xml("message", { type: "chat", to: bobJid, id: "b0" }, xml("body", {}, "hello before any block")));
    dm = (await r.bob.waitForMessage("hello before any block", alicePuppet, 30_000)).getRoomId()!;
    await r.bob.waitForEvent((e) => e.getRoomId() === dm && e.getStateKey() === r.bob.userId && e.getContent().membership === "join", 30_000, "Bob in the DM");
    await r.alice.send(xml("presence", { type: "subscribe", to: bobJid }));
    const ask = await r.bob.waitForMessage("asks to see your presence", r.botUserId, 30_000);
    await r.bob.say(ask.getRoomId()!, { msgtype: "m.text", body: `approve ${r.aliceEp.address}` });
    await r.alice.inbox.next((s) => s.is("presence") && s.attrs.type === "subscribed" && s.attrs.from === bobJid, 30_000, "subscribed");
    await r.bob.client.setPresence({ presence: "online", status_msg: "visible 0" });
    await r.alice.inbox.next(statusFrom(bobJid, "visible 0"), 30_000, "Bob's presence");
  });

  it("T-2.3.5 T-5.4.10 an XMPP user blocks a Matrix puppet with XEP-0191 at her own server: its messages and presence stop, and the Matrix sender's answer is the one for a user who does not exist", async () => {
    await r.alice.xmpp.iqCaller.request(xml("iq", { type: "set" }, xml("block", { xmlns: NS_BLOCKING }, xml("item", { jid: bobJid }))));
    await presenceHandedOver("hidden by the server's block");
    await r.bob.say(dm, { msgtype: "m.text", body: "blocked at the server" });
    const answer = await until("Bob's answer", () => notices().at(-1), 30_000);
    // The control: the answer for an XMPP user who does not exist on the same server.
    const ghost = `ghost-${Date.now().toString(36)}@${r.aliceEp.address.split("@")[1]}`;
    const ghostPuppet = r.on("matrix", { network: r.aliceEp.network, address: ghost as typeof r.aliceEp.address });
    const { room_id } = await r.bob.client.createRoom({ invite: [ghostPuppet], is_direct: true });
    await r.bob.waitForEvent((e) => e.getRoomId() === room_id && e.getStateKey() === ghostPuppet && e.getContent().membership === "join", 30_000, "the ghost's puppet joining");
    await r.bob.say(room_id, { msgtype: "m.text", body: "to nobody" });
    const control = await r.bob.waitForEvent((e) => e.getSender() === ghostPuppet && String(e.getContent().body ?? "").startsWith("⚠"), 30_000, "the answer for nobody");
    expect(String(answer.getContent().body).replace(r.aliceEp.address, "X")).toBe(String(control.getContent().body).replace(ghost, "X"));
    expect(String(answer.getContent().body)).not.toMatch(/block/i);
    expect(r.alice.inbox.seen.some((s) => bodyOf(s) === "blocked at the server")).toBe(false);
    expect(r.alice.inbox.seen.some(statusFrom(bobJid, "hidden by the server's block"))).toBe(false);

    await r.alice.xmpp.iqCaller.request(xml("iq", { type: "set" }, xml("unblock", { xmlns: NS_BLOCKING }, xml("item", { jid: bobJid }))));
    await r.bob.client.setPresence({ presence: "online", status_msg: "visible 1" });
    await r.alice.inbox.next(statusFrom(bobJid, "visible 1"), 30_000, "Bob's presence after the unblock");
  });

  it("T-2.3.5 T-5.4.10 T-5.1.15 an XMPP user blocks a Matrix puppet with XEP-0191 at the gateway: nothing of it is queued or shown, the answer is the neutral policy one, and the list, pushes and unblock work", async () => {
    const service = bobJid.split("@")[1]!;
    const info = await r.alice.xmpp.iqCaller.request(xml("iq", { type: "get", to: service }, xml("query", { xmlns: "http://jabber.org/protocol/disco#info" })));
    expect(info.getChild("query")!.getChildren("feature").map((f) => f.attrs.var)).toContain(NS_BLOCKING);
    await r.alice.xmpp.iqCaller.request(xml("iq", { type: "get", to: service }, xml("blocklist", { xmlns: NS_BLOCKING })));
    await r.alice.xmpp.iqCaller.request(xml("iq", { type: "set", to: service }, xml("block", { xmlns: NS_BLOCKING }, xml("item", { jid: bobJid }))));
    const push = await r.alice.inbox.next((s) => s.is("iq") && s.attrs.type === "set" && s.getChild("block", NS_BLOCKING) !== undefined, 10_000, "the block push");
    expect(push.getChild("block", NS_BLOCKING)!.getChild("item")!.attrs.jid).toBe(bobJid);
    const list = await r.alice.xmpp.iqCaller.request(xml("iq", { type: "get", to: service }, xml("blocklist", { xmlns: NS_BLOCKING })));
    expect(list.getChild("blocklist", NS_BLOCKING)!.getChildren("item").map((i) => i.attrs.jid)).toEqual([bobJid]);

    await presenceHandedOver("hidden by the gateway's block");
    const before = notices().length;
    await r.bob.say(dm, { msgtype: "m.text", body: "blocked at the gateway" });
    const answer = await until("Bob's answer", () => notices()[before], 30_000);
    expect(String(answer.getContent().body)).toContain("policy does not allow");
    expect(String(answer.getContent().body)).not.toMatch(/block/i);
    expect(r.alice.inbox.seen.some((s) => bodyOf(s) === "blocked at the gateway")).toBe(false);
    expect(r.alice.inbox.seen.some(statusFrom(bobJid, "hidden by the gateway's block"))).toBe(false);

    await r.alice.xmpp.iqCaller.request(xml("iq", { type: "set", to: service }, xml("unblock", { xmlns: NS_BLOCKING })));
    await r.bob.say(dm, { msgtype: "m.text", body: "after the gateway's unblock" });
    await r.alice.inbox.next((s) => s.is("message") && bodyOf(s) === "after the gateway's unblock", 30_000, "Bob's message after the unblock");
  });

  it("T-2.3.5 T-5.4.10 T-5.1.15 a Matrix user blocks an XMPP user through the bridge bot: her messages get the neutral answer, she sees him offline, and unblock restores both", async () => {
    const botRoom = (await r.bob.waitForMessage("asks to see your presence", r.botUserId)).getRoomId()!;
    // Alice watches Bob: the block shows her Bob CLOSED (polite), as if he had gone offline.
    await r.bob.say(botRoom, { msgtype: "m.text", body: `block ${r.aliceEp.address}` });
    await r.bob.waitForMessage("Blocked: ", r.botUserId, 30_000);
    await r.alice.inbox.next((s) => s.is("presence") && s.attrs.type === "unavailable" && s.attrs.from?.split("/")[0] === bobJid, 30_000, "Bob offline for Alice");
    await r.alice.send(xml("message", { type: "chat", to: bobJid, id: "m-after-1" }, xml("body", {}, "blocked by the bot")));
    const bounce = await r.alice.inbox.next((s) => s.is("message") && s.attrs.type === "error" && s.attrs.id === "m-after-1", 30_000, "the answer to Alice");
    expect(bounce.getChild("error")!.getChild("service-unavailable")).toBeDefined();
    expect(bounce.getChild("error")!.toString()).not.toMatch(/block/i);
    await r.bob.say(botRoom, { msgtype: "m.text", body: "blocked" });
    expect(String((await r.bob.waitForMessage("You block:", r.botUserId, 30_000)).getContent().body)).toContain(r.aliceEp.address);

    await r.bob.say(botRoom, { msgtype: "m.text", body: `unblock ${r.aliceEp.address}` });
    await r.bob.waitForMessage("Unblocked: ", r.botUserId, 30_000);
    await r.alice.send(xml("message", { type: "chat", to: bobJid, id: "free-1" }, xml("body", {}, "after the bot's unblock")));
    await r.bob.waitForMessage("after the bot's unblock", alicePuppet, 30_000);
  });
});
