/**
 * The SMTP listener's transport-level duties (issue 5 §1–2): STARTTLS offered when a certificate
 * is configured (RFC 3207), SPF on the client named by a trusted relay's `Received:` header,
 * per-IP rate limit at connect.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createTransport } from "nodemailer";
import type { MessageEvent } from "../../../src/model/events.js";
import { plainText } from "../../../src/model/message.js";
import { newCanonicalId } from "../../../src/model/ids.js";
import { mtaCoordinates } from "../../harness/mta/inject.js";
import { smtpSend } from "../../harness/mta/smtp-client.js";
import { composeMail, mailboxSigner, startAdapter } from "./support.js";

const mta = mtaCoordinates();
const anyPort = { host: "127.0.0.1", port: 0 };

function selfSigned(): { certFile: string; keyFile: string } {
  const dir = mkdtempSync(join(mta.workDir, "tls-")); // removed with the MTA work directory
  const certFile = join(dir, "cert.pem"), keyFile = join(dir, "key.pem");
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", keyFile, "-out", certFile, "-days", "1", "-subj", "/CN=parley.test"], { stdio: "ignore" });
  return { certFile, keyFile };
}

describe("SMTP listener", () => {
  it("T-2.5.1 offers STARTTLS when a certificate is configured, and not otherwise", async () => {
    const withTls = await startAdapter(mta, { listen: anyPort, tls: selfSigned() });
    const without = await startAdapter(mta, { listen: anyPort });
    try {
      const text = `over tls ${newCanonicalId()}`;
      const raw = await composeMail({ from: "carol@example.org", to: "alice@chat.example.org", text, sign: mailboxSigner("example.org") });
      const tls = createTransport({ host: "127.0.0.1", port: withTls.adapter.port, requireTLS: true, tls: { rejectUnauthorized: false } });
      await tls.sendMail({ envelope: { from: "carol@example.org", to: ["alice@chat.example.org"] }, raw });
      const ev = await withTls.ctx.waitForAccepted((e): e is MessageEvent => e.kind === "message" && plainText(e.message).includes(text));
      expect(ev.message.authenticatedBy.method).toBe("domain-policy");
      const plain = createTransport({ host: "127.0.0.1", port: without.adapter.port, requireTLS: true });
      await expect(plain.sendMail({ envelope: { from: "carol@example.org", to: ["alice@chat.example.org"] }, raw })).rejects.toThrow(/STARTTLS/i);
    } finally {
      await withTls.adapter.stop();
      await without.adapter.stop();
    }
  });

  it("T-5.1.1 behind a trusted relay, SPF is checked on the client IP in the relay's Received header", async () => {
    const relayed = await startAdapter(mta, { listen: anyPort, trustedRelays: ["127.0.0.1"] });
    const direct = await startAdapter(mta, { listen: anyPort });
    const received = (ip: string) => `Received: from mua.relayed.test (mua.relayed.test [${ip}]) by relay.example.org (Postfix) with ESMTP id ABC123; ${new Date().toUTCString()}`;
    const mail = (ip: string, text: string) => composeMail({ from: "x@relayed.test", to: "alice@chat.example.org", text, extraHeaders: [] }).then((b) => Buffer.concat([Buffer.from(`${received(ip)}\r\n`), b]));
    try {
      const good = `relayed ok ${newCanonicalId()}`;
      expect((await smtpSend(relayed.adapter.port, { from: "x@relayed.test", to: ["alice@chat.example.org"] }, await mail("192.0.2.1", good))).final).toBe(250);
      const ev = await relayed.ctx.waitForAccepted((e): e is MessageEvent => e.kind === "message" && plainText(e.message).includes(good));
      expect(ev.message.authenticatedBy.method).toBe("sending-host");
      // The client the relay names is not allowed by SPF: unauthenticated, refused by the strict default policy.
      expect((await smtpSend(relayed.adapter.port, { from: "x@relayed.test", to: ["alice@chat.example.org"] }, await mail("192.0.2.66", "bad"))).final).toBe(550);
      // Without the relay being trusted, the header is ignored and SPF runs on 127.0.0.1, which fails.
      expect((await smtpSend(direct.adapter.port, { from: "x@relayed.test", to: ["alice@chat.example.org"] }, await mail("192.0.2.1", "spoofed header"))).final).toBe(550);
    } finally {
      await relayed.adapter.stop();
      await direct.adapter.stop();
    }
  });

  it("rate-limits connections per IP with 421 4.7.0 at the greeting", async () => {
    const limited = await startAdapter(mta, { listen: anyPort, rateLimits: { perSenderPerMinute: 100, perIpPerMinute: 2 } });
    try {
      const raw = await composeMail({ from: "carol@example.org", to: "alice@chat.example.org", text: "c", sign: mailboxSigner("example.org") });
      const greetings: number[] = [];
      for (let i = 0; i < 3; i++) greetings.push((await smtpSend(limited.adapter.port, { from: "carol@example.org", to: ["alice@chat.example.org"] }, raw)).greeting);
      expect(greetings).toEqual([220, 220, 421]);
    } finally {
      await limited.adapter.stop();
    }
  });
});
