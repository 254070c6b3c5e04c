/**
 * RFC 2779 4.1.7 (accessibility: every message has a real plain-text alternative) with real
 * clients: an HTML-only mail reaches an XMPP user and a Matrix user as readable text, and a
 * Matrix message whose only text is its HTML reaches XMPP and a mailbox as text — never empty,
 * never markup, never a placeholder.
 */
import { dkimSign } from "mailauth";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitForMail } from "../../harness/mta/maildir.js";
import { smtpSend } from "../../harness/mta/smtp-client.js";
import { composeMail, mailboxSigner } from "../email/support.js";
import { bodyOf, startCrossRig, type CrossRig } from "./rig.js";

// Slot 8: its own (the Synapse harness has nine).
let r: CrossRig;
beforeAll(async () => { r = await startCrossRig(8, "a11y"); });
afterAll(async () => { await r?.stop(); });

const PLACEHOLDER = /\(no text\)|^\s*$/;

/** A DKIM-signed mail whose only part is text/html. */
async function htmlOnlyMail(to: string, html: string): Promise<Buffer> {
  const plain = await composeMail({ from: "Carol <carol@example.org>", to, subject: "html only", text: html });
  const raw = Buffer.from(plain.toString("utf8").replace("Content-Type: text/plain; charset=utf-8", "Content-Type: text/html; charset=utf-8"), "utf8");
  const signer = mailboxSigner("example.org");
  const { signatures } = await dkimSign(raw, { signingDomain: signer.domain, selector: signer.selector, privateKey: signer.privateKey });
  return Buffer.concat([Buffer.from(signatures), raw]);
}

describe("RFC 2779 4.1.7: a plain-text alternative on every network", () => {
  it("T-4.1.7 an HTML-only mail reaches XMPP and Matrix as readable text", async () => {
    const tag = `a11y-${Date.now().toString(36)}`;
    const html = `<html><body><p>Hello <b>bold</b> ${tag}</p><ul><li>first</li><li>second</li></ul></body></html>`;
    const raw = await htmlOnlyMail(`${r.on("email", r.aliceEp)}, ${r.on("email", r.bobEp)}`, html);
    expect((await smtpSend(r.mta.smtpPort, { from: "carol@example.org", to: [r.on("email", r.aliceEp), r.on("email", r.bobEp)] }, raw)).final).toBe(250);

    const stanza = await r.alice.inbox.next((s) => s.is("message") && bodyOf(s).includes(tag), 30_000, "the mail on XMPP");
    const xmppText = bodyOf(stanza);
    expect(xmppText).toMatch(/Hello\s+bold/);
    expect(xmppText).toContain("first");
    expect(xmppText).toContain("second");
    expect(xmppText).not.toMatch(/<\/?[a-z]+[^>]*>/i);
    expect(xmppText).not.toMatch(PLACEHOLDER);

    const event = await r.bob.waitForMessage(tag, r.on("matrix", r.carolEp), 30_000);
    const content = event.getContent();
    expect(String(content.body)).toMatch(/Hello\s+\**bold\**/);
    expect(String(content.body)).not.toMatch(/<\/?[a-z]+[^>]*>/i);
    expect(String(content.body)).not.toMatch(PLACEHOLDER);
  });

  it("T-4.1.7 a Matrix message whose text is only its HTML reaches XMPP and a mailbox as readable text", async () => {
    const tag = `a11y-mx-${Date.now().toString(36)}`;
    const { room_id } = await r.bob.client.createRoom({ invite: [r.on("matrix", r.aliceEp)], is_direct: true });
    await r.bob.waitForEvent((e) => e.getRoomId() === room_id && e.getStateKey() === r.on("matrix", r.aliceEp) && e.getContent().membership === "join", 30_000, "Alice's puppet joining");
    await r.bob.say(room_id, { msgtype: "m.text", body: "", format: "org.matrix.custom.html", formatted_body: `<p>Hi <em>there</em> ${tag}</p>` });
    const stanza = await r.alice.inbox.next((s) => s.is("message") && bodyOf(s).includes(tag), 30_000, "Bob's HTML on XMPP");
    expect(bodyOf(stanza)).toMatch(/Hi\s+_?there_?/);
    expect(bodyOf(stanza)).not.toMatch(/<\/?[a-z]+[^>]*>/i);

    const { room_id: mailRoom } = await r.bob.client.createRoom({ invite: [r.on("matrix", r.carolEp)], is_direct: true });
    await r.bob.waitForEvent((e) => e.getRoomId() === mailRoom && e.getStateKey() === r.on("matrix", r.carolEp) && e.getContent().membership === "join", 30_000, "Carol's puppet joining");
    await r.bob.say(mailRoom, { msgtype: "m.text", body: "", format: "org.matrix.custom.html", formatted_body: `<p>Mail <em>me</em> ${tag}</p>` });
    const mail = await waitForMail(r.carolInbox, (m) => m.raw.includes(tag), 30_000);
    const text = mail.raw.toString("utf8");
    expect(text).toMatch(/Content-Type: text\/plain/i);
    expect(text).not.toMatch(/\(no text\)/);
  });
});
