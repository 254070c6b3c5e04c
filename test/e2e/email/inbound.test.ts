/**
 * Email → IM over a real SMTP socket (issue 5 §1–3, §6): recipients checked at RCPT, sender
 * authentication with mailauth against the test DNS map, strict and lenient policies, quote
 * stripping, loop safety, replies threaded back to the conversation through the real Postfix.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTransport } from "nodemailer";
import type { MessageEvent } from "../../../src/model/events.js";
import { plainText } from "../../../src/model/message.js";
import { MessageSchema } from "../../../src/model/message.js";
import { newCanonicalId } from "../../../src/model/ids.js";
import { mtaCoordinates } from "../../harness/mta/inject.js";
import { smtpSend } from "../../harness/mta/smtp-client.js";
import { waitForMail } from "../../harness/mta/maildir.js";
import { alice, bob, carol, composeMail, keys, mailboxSigner, startAdapter } from "./support.js";

const mta = mtaCoordinates();

function messageWith(text: string) {
  return (e: { kind: string }): e is MessageEvent => e.kind === "message" && plainText((e as MessageEvent).message).includes(text);
}

describe("email inbound (email → IM)", () => {
  let s: Awaited<ReturnType<typeof startAdapter>>;
  beforeAll(async () => { s = await startAdapter(mta); });
  afterAll(async () => { await s.adapter.stop(); });
  const send = (from: string, to: string[], raw: Buffer) => smtpSend(s.adapter.port, { from, to }, raw);

  it("T-5.1.1 T-4.1.3 an authenticated mailbox (SPF, DKIM, DMARC pass) becomes a trusted sender", async () => {
    const text = `hi ${newCanonicalId()}`;
    const raw = await composeMail({ from: "Carol <carol@example.org>", to: "alice@chat.example.org", text, sign: mailboxSigner("example.org") });
    const r = await send("carol@example.org", ["alice@chat.example.org"], raw);
    expect(r.final).toBe(250);
    const ev = await s.ctx.waitForAccepted(messageWith(text));
    expect(ev.message.from).toEqual(carol);
    expect(ev.message.to).toEqual(alice);
    expect(ev.message.authenticatedBy.method).toBe("domain-policy");
    expect(ev.message.displayName).toBe("Carol");
    expect(ev.message.subject).toEqual({ und: "hello" });
  });

  it("T-2.1.2 refuses at RCPT (5xx) recipients that map to no bridged user, accepts shared forms", async () => {
    const raw = await composeMail({ from: "carol@example.org", to: "x", text: "x", sign: mailboxSigner("example.org") });
    const r = await send("carol@example.org", ["nobody@unknown.test", "carol@example.org", "bad=zz=x@xmpp.gw.example.org", "bob=matrix.example.org@matrix.gw.example.org"], raw);
    expect(r.rcpt).toEqual([550, 550, 550, 250]);
    expect(r.final).toBe(250);
  });

  it("T-5.1.1 a forged From: failing DMARC is refused with 5xx under the strict policy", async () => {
    const text = `forged ${newCanonicalId()}`;
    // The attacker's own SPF passes for evil.test and it signs as evil.test: nothing aligns with example.org.
    const raw = await composeMail({ from: "carol@example.org", to: "alice@chat.example.org", text, sign: { domain: "evil.test", selector: "sel", privateKey: keys.attacker.privateKey } });
    const r = await send("mallory@evil.test", ["alice@chat.example.org"], raw);
    expect(r.final).toBe(550);
    expect(r.finalText).toMatch(/5\.7\.1.*dmarc=fail/);
    expect(s.ctx.accepted.some(messageWith(text))).toBe(false);
  });

  it("T-5.1.1 a forged From: failing DMARC is delivered visibly marked unverified under the lenient policy, never trusted", async () => {
    const text = `lenient ${newCanonicalId()}`;
    const raw = await composeMail({ from: "Dave <dave@lenient.example>", to: "alice@chat.example.org", text });
    const r = await send("mallory@evil.test", ["alice@chat.example.org"], raw);
    expect(r.final).toBe(250);
    const ev = await s.ctx.waitForAccepted(messageWith(text));
    expect(ev.message.authenticatedBy.method).toBe("none");
    expect(ev.message.displayName).toBe("Dave (unverified dave@lenient.example)");
    expect(plainText(ev.message)).toMatch(/^\[unverified sender\] /);
    expect(ev.message.parts.some((p) => p.role === "html")).toBe(false);
  });

  it("T-5.1.1 a temporary DNS failure during authentication is answered 451, so the sender retries", async () => {
    const raw = await composeMail({ from: "x@flaky.test", to: "alice@chat.example.org", text: "dns down" });
    const r = await send("x@flaky.test", ["alice@chat.example.org"], raw);
    expect(r.final).toBe(451);
  });

  it("T-5.1.1 a From: in a gateway domain (impersonating a chat user) is refused", async () => {
    const raw = await composeMail({ from: "alice@chat.example.org", to: "bob=matrix.example.org@matrix.gw.example.org", text: "I am alice" });
    const r = await send("alice@chat.example.org", ["bob=matrix.example.org@matrix.gw.example.org"], raw);
    expect(r.final).toBe(550);
  });

  it("does not bridge auto-replies, list mail or bounces to a user (RFC 3834 loop safety), yet accepts them", async () => {
    for (const h of ["Auto-Submitted: auto-replied", "Precedence: bulk", "List-Id: <list.example.org>"]) {
      const text = `auto ${newCanonicalId()}`;
      const raw = await composeMail({ from: "carol@example.org", to: "alice@chat.example.org", text, extraHeaders: [h], sign: mailboxSigner("example.org") });
      expect((await send("carol@example.org", ["alice@chat.example.org"], raw)).final).toBe(250);
      expect(s.ctx.accepted.some(messageWith(text))).toBe(false);
    }
    const text = `null ${newCanonicalId()}`;
    const raw = await composeMail({ from: "carol@example.org", to: "alice@chat.example.org", text, sign: mailboxSigner("example.org") });
    expect((await send("", ["alice@chat.example.org"], raw)).final).toBe(250);
    expect(s.ctx.accepted.some(messageWith(text))).toBe(false);
  });

  it("refuses a message whose hop count is spent (554 5.4.6)", async () => {
    const raw = await composeMail({ from: "carol@example.org", to: "alice@chat.example.org", text: "loop", extraHeaders: ["X-Parley-Hops: 0"], sign: mailboxSigner("example.org") });
    const r = await send("carol@example.org", ["alice@chat.example.org"], raw);
    expect(r.final).toBe(554);
  });

  it("T-5.4.4 a reply by email to a bridged message comes back in the same conversation with the quote stripped", async () => {
    // IM → email first.
    const out = MessageSchema.parse({ id: newCanonicalId(), from: alice, to: carol, authenticatedBy: { method: "network" }, sentAt: new Date().toISOString(), parts: [{ role: "text", body: "Lunch at noon?" }] });
    await s.adapter.deliverMessage(out);
    const mail = await waitForMail(mta.maildirs["example.org"]!, (m) => m.header("X-Parley-Id") === out.id);
    const msgId = mail.header("Message-ID")!;
    // Carol replies from her mail client through the MTA, which relays chat.example.org to Parley.
    const marker = `Yes, see you there ${newCanonicalId()}`;
    const text = `${marker}\n\nOn Tue, 24 Nov 2026 at 00:10, Alice <alice@chat.example.org> wrote:\n> Lunch at noon?\n>\n\n-- \nCarol, Example Org`;
    const raw = await composeMail({ from: "Carol <carol@example.org>", to: "alice@chat.example.org", subject: "Re: Chat with alice@chat.example.org", text, inReplyTo: msgId, sign: mailboxSigner("example.org") });
    await createTransport({ host: "127.0.0.1", port: mta.smtpPort, ignoreTLS: true }).sendMail({ envelope: { from: "carol@example.org", to: ["alice@chat.example.org"] }, raw });
    const ev = await s.ctx.waitForAccepted(messageWith(marker), 20_000);
    expect(plainText(ev.message)).toBe(marker);
    expect(ev.message.inReplyTo).toBe(out.id);
    expect(ev.message.from).toEqual(carol);
    expect(ev.message.authenticatedBy.method).toBe("domain-policy");
    const ext = ev.message.extensions["urn:parley:email"]?.payload as { original?: string };
    expect(ext.original).toMatch(/^sha256:/); // the unstripped original stays available
    // The next IM threads onto Carol's reply.
    const next = MessageSchema.parse({ id: newCanonicalId(), from: alice, to: carol, authenticatedBy: { method: "network" }, sentAt: new Date().toISOString(), parts: [{ role: "text", body: "Great" }] });
    await s.adapter.deliverMessage(next);
    const nextMail = await waitForMail(mta.maildirs["example.org"]!, (m) => m.header("X-Parley-Id") === next.id);
    expect(nextMail.header("In-Reply-To")).toMatch(/@client\.test>$/);
    expect(nextMail.header("References")).toContain(msgId);
  });

  it("recognises Parley's own outbound mail by id and does not bridge it back", async () => {
    const out = MessageSchema.parse({ id: newCanonicalId(), from: bob, to: carol, authenticatedBy: { method: "network" }, sentAt: new Date().toISOString(), parts: [{ role: "text", body: "echo test" }] });
    await s.adapter.deliverMessage(out);
    const mail = await waitForMail(mta.maildirs["example.org"]!, (m) => m.header("X-Parley-Id") === out.id);
    const before = s.ctx.accepted.length;
    const r = await send("bounces@gw.example.org", ["alice@chat.example.org"], mail.raw);
    expect(r.final).toBe(250);
    expect(s.ctx.accepted.length).toBe(before);
  });

  it("answers 4xx when the core cannot store the message, so the sender retries", async () => {
    const failing = await startAdapter(mta, { listen: { host: "127.0.0.1", port: 0 } });
    try {
      const { ParleyError } = await import("../../../src/errors/parley-error.js");
      failing.ctx.accept = async () => { throw new ParleyError("PARLEY_UNAVAILABLE"); };
      const raw = await composeMail({ from: "carol@example.org", to: "alice@chat.example.org", text: "later", sign: mailboxSigner("example.org") });
      const r = await smtpSend(failing.adapter.port, { from: "carol@example.org", to: ["alice@chat.example.org"] }, raw);
      expect(r.final).toBe(451);
    } finally {
      await failing.adapter.stop();
    }
  });

  it("rate-limits a sender with 451 4.7.1 at MAIL FROM", async () => {
    const limited = await startAdapter(mta, { listen: { host: "127.0.0.1", port: 0 }, rateLimits: { perSenderPerMinute: 2, perIpPerMinute: 100 } });
    try {
      const raw = await composeMail({ from: "carol@example.org", to: "alice@chat.example.org", text: "burst", sign: mailboxSigner("example.org") });
      const codes: number[] = [];
      for (let i = 0; i < 3; i++) codes.push((await smtpSend(limited.adapter.port, { from: "carol@example.org", to: ["alice@chat.example.org"] }, raw)).mail);
      expect(codes).toEqual([250, 250, 451]);
    } finally {
      await limited.adapter.stop();
    }
  });

  it("enforces the size limit at the protocol level (SIZE, then 552 after DATA)", async () => {
    const small = await startAdapter(mta, { listen: { host: "127.0.0.1", port: 0 }, limits: { maxMessageBytes: 10_000 } });
    try {
      const raw = await composeMail({ from: "carol@example.org", to: "alice@chat.example.org", text: "x".repeat(20_000), sign: mailboxSigner("example.org") });
      const r = await smtpSend(small.adapter.port, { from: "carol@example.org", to: ["alice@chat.example.org"] }, raw);
      expect(r.final).toBe(552);
    } finally {
      await small.adapter.stop();
    }
  });
});
