/**
 * IM → email through the real Postfix relay into its Maildir (issue 5 §4): headers, threading,
 * multipart/alternative, DKIM that verifies, header-injection stripping, transient relay failure.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authenticate } from "mailauth";
import { simpleParser } from "mailparser";
import { MessageSchema, type Message } from "../../../src/model/message.js";
import { newCanonicalId } from "../../../src/model/ids.js";
import { endpoint, type Endpoint } from "../../../src/model/address.js";
import { DeliveryError } from "../../../src/adapter/contract.js";
import { mtaCoordinates } from "../../harness/mta/inject.js";
import { waitForMail, type MaildirMessage } from "../../harness/mta/maildir.js";
import { startMta, stopMta } from "../../harness/mta/postfix.js";
import { alice, bob, resolver, startAdapter } from "./support.js";

const mta = mtaCoordinates();
const inbox = mta.maildirs["example.org"]!;

function chat(from: Endpoint, to: Endpoint, text: string, extra: Partial<Message> = {}): Message {
  return MessageSchema.parse({ id: newCanonicalId(), from, to, authenticatedBy: { method: "network" }, sentAt: new Date().toISOString(), parts: [{ role: "text", body: text }], ...extra });
}

const byId = (id: string) => (m: MaildirMessage) => m.header("X-Parley-Id") === id;

describe("email outbound (IM → email)", () => {
  let s: Awaited<ReturnType<typeof startAdapter>>;
  beforeAll(async () => { s = await startAdapter(mta); });
  afterAll(async () => { await s.adapter.stop(); });

  it("T-4.2.1 T-4.1.7 relays with From, Message-ID, multipart/alternative and a DKIM signature that verifies", async () => {
    const to = endpoint(`dana-${Date.now()}@example.org`, "email");
    const m = chat(alice, to, "Hello from XMPP ✓", { displayName: "Alice Liddell" });
    const outcome = await s.adapter.deliverMessage(m);
    expect(outcome.state).toBe("relayed"); // SMTP 250 is a hand-off, never "delivered"
    const mail = await waitForMail(inbox, byId(m.id));
    expect(mail.header("Message-ID")).toBe(`<${m.id}@chat.example.org>`);
    expect(mail.header("Delivered-To")).toBe(to.address);
    expect(mail.header("Return-Path")).toBe(`<bounces+${m.id}@gw.example.org>`);
    expect(mail.header("Subject")).toBe("Chat with alice@chat.example.org");
    expect(mail.header("Auto-Submitted")).toBeUndefined();
    const parsed = await simpleParser(mail.raw);
    expect(parsed.from?.value[0]).toEqual({ address: "alice@chat.example.org", name: "Alice Liddell" });
    expect(parsed.text?.trim()).toBe("Hello from XMPP ✓");
    expect(parsed.html).toContain("Hello from XMPP ✓");
    expect(mail.header("Content-Type")).toMatch(/multipart\/alternative/);
    const auth = await authenticate(mail.raw, { ip: "127.0.0.1", helo: "mta.parley.test", sender: `bounces+${m.id}@gw.example.org`, mta: "test", resolver });
    const dkim = auth.dkim.results[0]!;
    expect(dkim.signingDomain).toBe("chat.example.org");
    expect(dkim.status.result).toBe("pass");
  });

  it("T-5.4.4 threads a conversation: In-Reply-To and References follow the previous message", async () => {
    const to = endpoint(`erin-${Date.now()}@example.org`, "email");
    const first = chat(bob, to, "one");
    const second = chat(bob, to, "two");
    await s.adapter.deliverMessage(first);
    await s.adapter.deliverMessage(second);
    const m1 = await waitForMail(inbox, byId(first.id));
    const m2 = await waitForMail(inbox, byId(second.id));
    expect(m1.header("From")).toContain("bob=matrix.example.org@matrix.gw.example.org");
    expect(m1.header("In-Reply-To")).toBeUndefined();
    expect(m2.header("In-Reply-To")).toBe(m1.header("Message-ID"));
    expect(m2.header("References")).toContain(m1.header("Message-ID")!);
    expect(m2.header("Subject")).toBe("Re: Chat with bob@matrix.example.org");
  });

  it("T-4.1.5 Czech text and emoji survive in the subject (RFC 2047) and the body", async () => {
    const to = endpoint(`ota-${Date.now()}@example.org`, "email");
    const text = "Příliš žluťoučký kůň úpěl ďábelské ódy 🐎";
    const m = chat(alice, to, text, { subject: { cs: "Žádost 🐎" }, lang: "cs", displayName: "Alžběta" });
    await s.adapter.deliverMessage(m);
    const mail = await waitForMail(inbox, byId(m.id));
    expect(mail.raw.toString("latin1")).toMatch(/^Subject: =\?UTF-8\?/m); // encoded word, never raw 8-bit in a header
    const parsed = await simpleParser(mail.raw);
    expect(parsed.subject).toBe("Žádost 🐎");
    expect(parsed.from?.value[0]?.name).toBe("Alžběta");
    expect(parsed.text?.trim()).toBe(text);
  });

  it("strips CR/LF/NUL from names and subjects so no header or SMTP command can be injected", async () => {
    const to = endpoint(`fay-${Date.now()}@example.org`, "email");
    const m = chat(alice, to, "x", { displayName: "Eve\r\nBcc: victim@example.org\r\n", subject: { und: "hi\r\nX-Injected: yes\u0000\r\n.\r\nRCPT TO:<victim@example.org>" } });
    await s.adapter.deliverMessage(m);
    const mail = await waitForMail(inbox, byId(m.id));
    expect(mail.header("X-Injected")).toBeUndefined();
    expect(mail.header("Bcc")).toBeUndefined();
    expect(mail.header("Subject")).toBe("hi X-Injected: yes . RCPT TO:<victim@example.org>");
    expect(mail.header("Delivered-To")).toBe(to.address);
  });

  it("marks bot notices Auto-Submitted (RFC 3834) and carries the hop count", async () => {
    const to = endpoint(`gus-${Date.now()}@example.org`, "email");
    const m = chat(alice, to, "notice", { kind: "notice", hops: 5 });
    await s.adapter.deliverMessage(m);
    const mail = await waitForMail(inbox, byId(m.id));
    expect(mail.header("Auto-Submitted")).toBe("auto-generated");
    expect(mail.header("X-Parley-Hops")).toBe("5");
  });

  it("T-4.2.1 a stopped relay is a transient failure; the same message is delivered once it returns", async () => {
    const to = endpoint(`hal-${Date.now()}@example.org`, "email");
    const m = chat(alice, to, "while the MTA was down");
    await stopMta(mta);
    try {
      const err = await s.adapter.deliverMessage(m).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(DeliveryError);
      expect((err as DeliveryError).failureClass).toBe("transient");
    } finally {
      await startMta(mta);
    }
    expect((await s.adapter.deliverMessage(m)).state).toBe("relayed");
    const mail = await waitForMail(inbox, byId(m.id));
    expect(mail.header("Message-ID")).toBe(`<${m.id}@chat.example.org>`); // same id on the retry
  });

  it("T-4.2.1 a 5xx from the relay is permanent", async () => {
    const m = chat(alice, endpoint("someone@unrouted.invalid", "email"), "x");
    const err = await s.adapter.deliverMessage(m).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(DeliveryError);
    expect((err as DeliveryError).failureClass).toBe("permanent");
    expect((err as DeliveryError).nativeDetail).toMatch(/^5\d\d/);
  });

  it("T-2.2.1 direct to MX when configured: MX records by preference, falling over to the next", async () => {
    const mx = await startAdapter(mta, { listen: { host: "127.0.0.1", port: 0 }, outbound: { mode: "mx", mxPort: mta.smtpPort, opportunisticTLS: false, connectionTimeoutMs: 2000 } as never }, undefined, undefined, {
      // The preferred exchange does not answer (nothing listens on 127.0.0.2): the next one is tried.
      resolveMx: async (domain) => (domain === "example.org" ? [{ exchange: "127.0.0.1", priority: 20 }, { exchange: "127.0.0.2", priority: 10 }] : []),
    });
    try {
      const m = chat(alice, endpoint(`mx-${Date.now()}@example.org`, "email"), "via MX");
      expect((await mx.adapter.deliverMessage(m)).state).toBe("relayed");
      await waitForMail(inbox, byId(m.id));
    } finally {
      await mx.adapter.stop();
    }
  });
});
