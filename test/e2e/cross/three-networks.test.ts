/**
 * XMPP ↔ Matrix ↔ email for real: one gateway (real Redis, BullMQ, presence) with all three
 * adapters, against the run's Prosody, Synapse and Postfix, each person using a real client —
 * an `@xmpp/client` user, a syncing `matrix-js-sdk` user, and SMTP into Postfix with the mailbox
 * read from its Maildir. Issue 4 "XMPP ↔ Matrix for real", issue 5 "one test crosses networks".
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { xml } from "../xmpp/support.js";
import { waitForMail } from "../../harness/mta/maildir.js";
import { smtpSend } from "../../harness/mta/smtp-client.js";
import { composeMail, mailboxSigner } from "../email/support.js";
import { bodyOf, startCrossRig, type CrossRig } from "./rig.js";

let r: CrossRig;
beforeAll(async () => { r = await startCrossRig(0, "test"); });
afterAll(async () => { await r?.stop(); });

describe("three networks through one gateway, with real clients", () => {
  let dmRoom: string;

  it("T-2.1.3 T-4.1.1 an XMPP user and a Matrix user exchange messages", async () => {
    const bobJid = r.on("xmpp", r.bobEp);
    const alicePuppet = r.on("matrix", r.aliceEp);
    await r.alice.send(xml("message", { type: "chat", to: bobJid, id: "x1" }, xml("body", {}, "Hello Bob, from XMPP")));
    const seen = await r.bob.waitForMessage("Hello Bob, from XMPP", alicePuppet, 30_000);
    dmRoom = seen.getRoomId()!;
    await r.bob.waitForEvent((e) => e.getRoomId() === dmRoom && e.getStateKey() === r.bob.userId && e.getContent().membership === "join");
    await r.bob.say(dmRoom, { msgtype: "m.text", body: "Hi Alice, from Matrix" });
    const reply = await r.alice.inbox.next((s) => s.is("message") && bodyOf(s) === "Hi Alice, from Matrix", 30_000, "Bob's reply");
    expect(String(reply.attrs.from).split("/")[0]).toBe(bobJid);
  });

  it("T-2.3.2 T-3.1.1 T-5.1.5 an XMPP user sees a Matrix user's presence once the Matrix user approves", async () => {
    const bobJid = r.on("xmpp", r.bobEp);
    await r.alice.send(xml("presence", { type: "subscribe", to: bobJid }));
    const ask = await r.bob.waitForMessage("asks to see your presence", r.botUserId, 30_000);
    await r.bob.say(ask.getRoomId()!, { msgtype: "m.text", body: `approve ${r.aliceEp.address}` });
    await r.alice.inbox.next((s) => s.is("presence") && s.attrs.type === "subscribed" && s.attrs.from === bobJid, 30_000, "subscribed");
    await r.bob.client.setPresence({ presence: "online", status_msg: "at my desk" });
    const seen = await r.alice.inbox.next((s) => s.is("presence") && s.attrs.type === undefined && s.attrs.from?.split("/")[0] === bobJid && s.getChildText("status") === "at my desk", 30_000, "Bob online");
    expect(seen.getChildText("status")).toBe("at my desk");
  });

  it("T-2.3.2 T-3.1.1 T-5.1.6 a Matrix user asks through the bridge bot to see an XMPP user's presence, and sees it once approved on the roster", async () => {
    const bobJid = r.on("xmpp", r.bobEp);
    const bot = r.botUserId;
    const botRoom = (await r.bob.waitForMessage("asks to see your presence", bot)).getRoomId()!;
    await r.bob.say(botRoom, { msgtype: "m.text", body: `watch ${r.aliceEp.address}` });
    await r.alice.inbox.next((s) => s.is("presence") && s.attrs.type === "subscribe" && s.attrs.from === bobJid, 30_000, "Bob's subscribe");
    await r.alice.send(xml("presence", { type: "subscribed", to: bobJid }));
    await r.bob.waitForMessage("approved", bot, 30_000);
    await r.alice.send(xml("presence", {}, xml("show", {}, "away"), xml("status", {}, "coffee")));
    const p = await r.bob.waitForPresence(r.on("matrix", r.aliceEp), "unavailable", 30_000);
    expect(p.statusMsg).toBe("coffee");
  });

  it("T-2.1.2 T-4.1.3 T-5.4.4 a mailbox writes to an XMPP user, who answers by chat; the answer threads under the mail", async () => {
    const aliceMail = r.on("email", r.aliceEp);
    const carolJid = r.on("xmpp", r.carolEp);
    const messageId = `<cross-${Date.now()}@example.org>`;
    const raw = await composeMail({ from: "Carol <carol@example.org>", to: aliceMail, subject: "lunch?", text: "Hello Alice, from email", messageId, sign: mailboxSigner("example.org") });
    const sent = await smtpSend(r.mta.smtpPort, { from: "carol@example.org", to: [aliceMail] }, raw);
    expect(sent.final).toBe(250);
    const chat = await r.alice.inbox.next((s) => s.is("message") && bodyOf(s).includes("Hello Alice, from email"), 30_000, "Carol's mail as chat");
    expect(String(chat.attrs.from).split("/")[0]).toBe(carolJid);
    await r.alice.send(xml("message", { type: "chat", to: carolJid, id: "x2" }, xml("body", {}, "Lunch at noon, from XMPP")));
    const mail = await waitForMail(r.carolInbox, (m) => m.raw.includes("Lunch at noon, from XMPP"), 30_000);
    expect(mail.header("in-reply-to")).toBe(messageId);
    expect(mail.header("from")).toContain(aliceMail);
  });

  it("T-2.1.2 a Matrix user writes to a mailbox through a direct chat with its puppet, and the mailbox never shows presence", async () => {
    const carolPuppet = r.on("matrix", r.carolEp);
    const { room_id } = await r.bob.client.createRoom({ invite: [carolPuppet], is_direct: true });
    await r.bob.waitForEvent((e) => e.getRoomId() === room_id && e.getStateKey() === carolPuppet && e.getContent().membership === "join", 30_000, "the puppet joining");
    await r.bob.say(room_id, { msgtype: "m.text", body: "Hello Carol, from Matrix" });
    const mail = await waitForMail(r.carolInbox, (m) => m.raw.includes("Hello Carol, from Matrix"), 30_000);
    expect(mail.header("from")).toContain(r.on("email", r.bobEp));
    expect(await r.gw.presence.presenceFor(r.bobEp, r.carolEp)).toBeUndefined();
  });
});
