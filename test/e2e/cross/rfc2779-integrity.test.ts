/**
 * RFC 2779 2.5.1 / 5.4.7 (a recipient can be confident a message was not altered), 5.1.4 (A can
 * check that it received accurately what B chose to disclose) and 5.3.1 (A can verify that presence
 * is accurate as B sent it), with real clients on Prosody, Synapse and Postfix.
 *
 * - A mail whose body was changed after its DKIM signature (the body hash no longer matches) never
 *   reaches the XMPP or the Matrix user as the sender's authenticated words: from a domain with a
 *   strict policy it is refused, from one that accepts unverified mail it arrives marked
 *   `[unverified sender]` in both clients. The same mail unaltered arrives unmarked.
 * - Presence arrives as the presentity set it, from an identity that names both the gateway and
 *   the person in each network's own form: on XMPP a JID on a component domain whose disco identity
 *   is `gateway/<network>` and whose vCard carries the person's own URI; on Matrix a puppet in the
 *   application service's exclusive namespace named after the person's canonical address. Nothing
 *   else marks gateway-made presence on the wire (docs/rfc2779.md, 5.1.15: a politely blocked watcher
 *   must not tell its CLOSED view from a real one).
 */
import { writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { endpoint } from "../../../src/model/address.js";
import { LogCapture, xml, type Stanza } from "../xmpp/support.js";
import { smtpSend } from "../../harness/mta/smtp-client.js";
import { dkimSign } from "mailauth";
import { composeMail, keys } from "../email/support.js";
import { until } from "../../support/until.js";
import { bodyOf, startCrossRig, type CrossRig } from "./rig.js";

// Slot 14: no other cross test uses it.
let r: CrossRig;
const logs = new LogCapture();
beforeAll(async () => { r = await startCrossRig(14, "integrity", logs.logger); });
afterAll(async () => {
  await r?.stop();
  if (process.env.PARLEY_TEST_DUMP_LOG) writeFileSync(process.env.PARLEY_TEST_DUMP_LOG, logs.lines.map((l) => JSON.stringify(l)).join("\n"));
});

const ENVELOPE = "bounce@relayed.test"; // SPF of relayed.test does not cover the relay: DKIM alone decides.

/** A signed mail from `from` to Alice's and Bob's gateway addresses; `tamper` rewrites its body after signing. */
async function mail(from: string, domain: string, text: string, tamper?: (s: string) => string): Promise<void> {
  const to = [r.on("email", r.aliceEp), r.on("email", r.bobEp)];
  const unsigned = await composeMail({ from, to: to.join(", "), subject: "invoice", text });
  // mailauth signs only what `signatureData` lists.
  const key = { signingDomain: domain, selector: "mail", privateKey: keys.mailbox.privateKey };
  const { signatures } = await dkimSign(unsigned, { ...key, signatureData: [key] });
  expect(signatures).toMatch(/^DKIM-Signature: /i);
  let raw = Buffer.concat([Buffer.from(signatures), unsigned]);
  if (tamper) raw = Buffer.from(tamper(raw.toString("utf8")), "utf8");
  expect((await smtpSend(r.mta.smtpPort, { from: ENVELOPE, to }, raw)).final).toBe(250);
}

const fromBare = (s: Stanza) => String(s.attrs.from ?? "").split("/")[0];

describe("RFC 2779 integrity and provenance, with real clients", () => {
  it("T-2.5.1 T-5.4.7 a mail altered after its DKIM signature is never shown as the sender's authenticated words on XMPP or Matrix", async () => {
    const carol = endpoint("carol@example.org", "email");
    const dan = endpoint("dan@lenient.example", "email");
    // Altered, from a strict domain (DMARC p=reject, acceptUnauthenticated false): refused, shown nowhere.
    const mark = logs.lines.length;
    await mail("Carol <carol@example.org>", "example.org", "Pay invoice 17 to account 100", (s) => s.replace("account 100", "account 666"));
    await until("Parley refusing the altered mail", () => (logs.lines.slice(mark).some((l) => l.msg === "refused: sender not authenticated (strict policy)") ? true : undefined), 60_000);
    // Unaltered, the same way: arrives unmarked (the control: the path works and DKIM passes).
    await mail("Carol <carol@example.org>", "example.org", "Pay invoice 18 to account 100");
    const good = await r.alice.inbox.next((s) => s.is("message") && bodyOf(s).includes("invoice 18"), 60_000, "the unaltered mail");
    expect(fromBare(good)).toBe(r.on("xmpp", carol));
    expect(bodyOf(good)).not.toContain("[unverified sender]");
    const goodOnMatrix = await r.bob.waitForMessage("invoice 18", r.on("matrix", carol), 60_000);
    expect(String(goodOnMatrix.getContent().body)).not.toContain("[unverified sender]");
    expect(r.alice.inbox.seen.some((s) => bodyOf(s).includes("account 666"))).toBe(false);
    expect(r.bob.events.some((e) => String(e.getContent().body ?? "").includes("account 666"))).toBe(false);

    // Altered, from a domain whose policy accepts unverified mail: it arrives, marked as unverified.
    await mail("Dan <dan@lenient.example>", "lenient.example", "Pay invoice 19 to account 100", (s) => s.replace("account 100", "account 667"));
    const marked = await r.alice.inbox.next((s) => s.is("message") && bodyOf(s).includes("account 667"), 60_000, "the altered lenient mail");
    expect(fromBare(marked)).toBe(r.on("xmpp", dan));
    expect(bodyOf(marked).startsWith("[unverified sender]")).toBe(true);
    expect(marked.getChild("html", "http://jabber.org/protocol/xhtml-im")).toBeUndefined();
    const markedOnMatrix = await r.bob.waitForMessage("account 667", r.on("matrix", dan), 60_000);
    expect(String(markedOnMatrix.getContent().body).startsWith("[unverified sender]")).toBe(true);
    expect(markedOnMatrix.getContent().formatted_body).toBeUndefined();
  }, 240_000);

  it("T-5.1.4 T-5.3.1 presence arrives exactly as the presentity set it, from an identity that shows the gateway and the person in each network's own form", async () => {
    const bobJid = r.on("xmpp", r.bobEp);
    const alicePuppet = r.on("matrix", r.aliceEp);
    // Alice watches Bob (approved through the bridge bot), Bob watches Alice (approved on her roster).
    await r.alice.send(xml("presence", { type: "subscribe", to: bobJid }));
    const ask = await r.bob.waitForMessage("asks to see your presence", r.botUserId, 30_000);
    await r.bob.say(ask.getRoomId()!, { msgtype: "m.text", body: `approve ${r.aliceEp.address}` });
    await r.alice.inbox.next((s) => s.is("presence") && s.attrs.type === "subscribed" && s.attrs.from === bobJid, 30_000, "subscribed");
    await r.bob.say(ask.getRoomId()!, { msgtype: "m.text", body: `watch ${r.aliceEp.address}` });
    await r.alice.inbox.next((s) => s.is("presence") && s.attrs.type === "subscribe" && s.attrs.from === bobJid, 30_000, "Bob's subscribe");
    await r.alice.send(xml("presence", { type: "subscribed", to: bobJid }));
    await r.bob.waitForMessage("approved", r.botUserId, 30_000);

    // Matrix → XMPP: Bob's status, unicode and all, arrives byte for byte from his puppet JID.
    const bobSays = "Ω at my desk — ünïcode, \"quotes\" & <angles>";
    await r.bob.client.setPresence({ presence: "online", status_msg: bobSays });
    const seen = await r.alice.inbox.next((s) => s.is("presence") && s.attrs.type === undefined && fromBare(s) === bobJid && s.getChildText("status") === bobSays, 30_000, "Bob's presence");
    expect(seen.getChild("show")).toBeUndefined();
    // … and that JID says "gateway to Matrix" (XEP-0030 identity of its domain) and whose it is (the vCard's matrix: URI).
    const domain = bobJid.split("@")[1]!;
    const info = await r.alice.xmpp.iqCaller.request(xml("iq", { type: "get", to: domain }, xml("query", { xmlns: "http://jabber.org/protocol/disco#info" })));
    const identity = info.getChild("query")!.getChild("identity")!;
    expect([identity.attrs.category, identity.attrs.type]).toEqual(["gateway", "matrix"]);
    const card = await r.alice.xmpp.iqCaller.request(xml("iq", { type: "get", to: bobJid }, xml("vCard", { xmlns: "vcard-temp" })));
    expect(card.getChild("vCard", "vcard-temp")!.getChildren("URL").map((u) => u.text())).toContain(`matrix:u/${r.bob.userId.slice(1)}`);

    // XMPP → Matrix: Alice's away and status arrive as her puppet's, a user of the application service's namespace named after her address.
    const aliceSays = "Back at 3 — ünïcode & <angles>";
    await r.alice.send(xml("presence", {}, xml("show", {}, "away"), xml("status", {}, aliceSays)));
    const p = await until("Alice's presence on Matrix", () => r.bob.presences.find((x) => x.userId === alicePuppet && x.statusMsg === aliceSays), 30_000);
    expect(p.presence).toBe("unavailable");
    const slot = inject("synapse").appservices[14]!;
    expect(alicePuppet.startsWith(`@${slot.puppetPrefix}`)).toBe(true);
    expect((await r.bob.client.getProfileInfo(alicePuppet)).displayname).toContain(r.aliceEp.address);
  }, 240_000);
});
