/**
 * RFC 2779 5.1.17, 5.1.18, 5.2.5, 5.2.6, 5.4.5 (nobody has to reveal their IP address to the other
 * party) and 4.1.6 (internationalisation: the language tag is mapped, RFC 7572 §8), on one gateway
 * with all three adapters against the run's Prosody, Synapse and Postfix, with real clients.
 *
 * Email is the one network whose payloads carry client IPs (`Received:`, `X-Originating-IP`): a mail
 * with known client IPs goes to an XMPP user and a Matrix user, and what their clients receive is
 * scanned for them. The XMPP component protocol and the Matrix application-service API never give
 * Parley a client's IP; the other way, the mail Parley writes starts its `Received:` chain at
 * Parley's own hop to the relay, so nothing before it (a chat client) is revealed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { xml } from "../xmpp/support.js";
import { waitForMail } from "../../harness/mta/maildir.js";
import { smtpSend } from "../../harness/mta/smtp-client.js";
import { composeMail, mailboxSigner } from "../email/support.js";
import { bodyOf, startCrossRig, type CrossRig } from "./rig.js";

// A slot of its own: three-networks.test.ts uses the first.
let r: CrossRig;
beforeAll(async () => { r = await startCrossRig(1, "rfc2779"); });
afterAll(async () => { await r?.stop(); });

/** Client IPs the mail user's machine and webmail put in the mail (documentation ranges, RFC 5737 / RFC 3849). */
const CLIENT_IPS = ["198.51.100.23", "203.0.113.77", "2001:db8::77"];
const IPV4 = /\b(?:\d{1,3}\.){3}\d{1,3}\b/g;

/** A mail as carol's client and webmail wrote it: client IPs in `Received:` and `X-Originating-IP`. */
function mailWithClientIps(to: string, text: string, extra: string[] = []) {
  return composeMail({
    from: "Carol <carol@example.org>", to, subject: "where am I", text,
    extraHeaders: [
      `Received: from carols-laptop (carols-laptop [${CLIENT_IPS[0]}]) by webmail.example.org with ESMTPSA; ${new Date().toUTCString()}`,
      `Received: from [IPv6:${CLIENT_IPS[2]}] by webmail.example.org with HTTP; ${new Date().toUTCString()}`,
      `X-Originating-IP: [${CLIENT_IPS[1]}]`,
      ...extra,
    ],
    sign: mailboxSigner("example.org"),
  });
}

describe("RFC 2779: no client IP crosses the gateway; the language tag is mapped", () => {
  it("T-5.1.17 T-5.2.5 T-5.4.5 a mail carrying its sender's client IPs reaches an XMPP user and a Matrix user with none of them", async () => {
    const aliceMail = r.on("email", r.aliceEp);
    const bobMail = r.on("email", r.bobEp);
    const text = `privacy check ${Date.now()}`;
    const raw = await mailWithClientIps(`${aliceMail}, ${bobMail}`, text);
    for (const ip of CLIENT_IPS) expect(raw.toString("latin1")).toContain(ip); // the fixture does carry them
    const sent = await smtpSend(r.mta.smtpPort, { from: "carol@example.org", to: [aliceMail, bobMail] }, raw);
    expect(sent.final).toBe(250);

    const stanza = await r.alice.inbox.next((s) => s.is("message") && bodyOf(s).includes(text), 30_000, "Carol's mail on XMPP");
    const xmlText = stanza.toString();
    for (const ip of CLIENT_IPS) expect(xmlText).not.toContain(ip);
    expect(xmlText.match(IPV4) ?? []).toEqual([]);

    const event = await r.bob.waitForMessage(text, r.on("matrix", r.carolEp), 30_000);
    const json = JSON.stringify(event.event);
    for (const ip of CLIENT_IPS) expect(json).not.toContain(ip);
    expect(json.match(IPV4) ?? []).toEqual([]);
  });

  it("T-5.1.18 T-5.2.6 the other way: the mail an XMPP user's and a Matrix user's messages become starts its Received: chain at Parley, with no originating IP", async () => {
    const fromAlice = `from xmpp ${Date.now()}`;
    await r.alice.send(xml("message", { type: "chat", to: r.on("xmpp", r.carolEp), id: `p-${Date.now()}` }, xml("body", {}, fromAlice)));
    const fromBob = `from matrix ${Date.now()}`;
    const { room_id } = await r.bob.client.createRoom({ invite: [r.on("matrix", r.carolEp)], is_direct: true });
    await r.bob.waitForEvent((e) => e.getRoomId() === room_id && e.getStateKey() === r.on("matrix", r.carolEp) && e.getContent().membership === "join", 30_000, "the puppet joining");
    await r.bob.say(room_id, { msgtype: "m.text", body: fromBob });
    for (const text of [fromAlice, fromBob]) {
      const mail = await waitForMail(r.carolInbox, (m) => m.raw.includes(text), 30_000);
      const head = mail.raw.subarray(0, mail.raw.indexOf("\r\n\r\n") >= 0 ? mail.raw.indexOf("\r\n\r\n") : mail.raw.indexOf("\n\n")).toString("latin1").replace(/\r?\n[ \t]+/g, " ");
      expect(head).not.toMatch(/^X-Originating-IP:/im);
      const received = head.split(/\r?\n/).filter((l) => /^Received:/i.test(l));
      // The only hops are the relay's: the first one (bottom-most) is Parley handing the mail over.
      expect(received.length).toBeGreaterThan(0);
      expect(received.at(-1)).toMatch(/from parley\.test\b/);
      for (const r of received.slice(0, -1)) expect(r).not.toMatch(/\bfrom\b(?! parley\.test\b)(?! localhost\b)/);
    }
  });

  it("T-4.1.6 Content-Language: cs on a mail becomes xml:lang='cs' on the XMPP message and its subject", async () => {
    const aliceMail = r.on("email", r.aliceEp);
    const text = `Dobrý den, Alice ${Date.now()}`;
    const raw = await composeMail({ from: "Carol <carol@example.org>", to: aliceMail, subject: "Příliš žluťoučký kůň", text, extraHeaders: ["Content-Language: cs"], sign: mailboxSigner("example.org") });
    const sent = await smtpSend(r.mta.smtpPort, { from: "carol@example.org", to: [aliceMail] }, raw);
    expect(sent.final).toBe(250);
    const stanza = await r.alice.inbox.next((s) => s.is("message") && bodyOf(s).includes(text), 30_000, "Carol's Czech mail on XMPP");
    expect(stanza.attrs["xml:lang"]).toBe("cs");
    const subject = stanza.getChild("subject");
    expect(subject?.text()).toBe("Příliš žluťoučký kůň");
    // The subject carries the message's language: no xml:lang of its own, or the same one.
    expect(subject?.attrs["xml:lang"] ?? "cs").toBe("cs");
  });
});

describe("RFC 7572 §8: the language tag is mapped both ways", () => {
  it("T-4.1.6 an XMPP message with xml:lang='cs' becomes a mail with Content-Language: cs", async () => {
    const text = `Ahoj Carol, ${Date.now()}`;
    await r.alice.send(xml("message", { type: "chat", to: r.on("xmpp", r.carolEp), id: `cs-${Date.now()}`, "xml:lang": "cs" }, xml("body", {}, text)));
    const mail = await waitForMail(r.carolInbox, (m) => m.raw.toString("utf8").includes(text), 30_000);
    expect(mail.header("content-language")).toBe("cs");
  });
});
