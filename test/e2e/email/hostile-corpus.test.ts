/**
 * The hostile corpus (test/fixtures/email/hostile, ≥ 50 messages): each is submitted over a real
 * SMTP socket; the reply class and what chat shows must match expectations.json beside the corpus;
 * the listener must stay up throughout (issue 5 "Done when").
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MessageEvent } from "../../../src/model/events.js";
import { plainText } from "../../../src/model/message.js";
import { mtaCoordinates } from "../../harness/mta/inject.js";
import { smtpSend } from "../../harness/mta/smtp-client.js";
import { dkimSign } from "mailauth";
import type { Expectation, ReplaySigning } from "../../fixtures/email/hostile/generate.js";
import { keys, startAdapter } from "./support.js";
import { DirectoryBlobStore } from "../../../adapters/email/blobs.js";

const mta = mtaCoordinates();
const corpus = join(import.meta.dirname, "../../fixtures/email/hostile");
const table = JSON.parse(readFileSync(join(corpus, "expectations.json"), "utf8")) as Expectation[];

/** DKIM-sign with l= (keys are made per run), then tamper as the table says (issue 11, class 3). */
async function signAndTamper(raw: Buffer, s: ReplaySigning): Promise<Buffer> {
  // mailauth signs only what `signatureData` lists (top-level keys alone sign nothing).
  const key = { signingDomain: s.domain, selector: "mail", privateKey: keys.mailbox.privateKey };
  const { signatures } = await dkimSign(raw, { ...key, signatureData: [{ ...key, maxBodyLength: s.bodyLength }] });
  expect(signatures).toContain(`l=${s.bodyLength};`);
  const signed = Buffer.concat([Buffer.from(signatures), raw]);
  if (s.tamper === "append") return Buffer.concat([signed, Buffer.from("\r\nAPPENDED: wire the money to account 666\r\n")]);
  if (s.tamper === "rewrap") {
    return Buffer.concat([Buffer.from('Content-Type: multipart/mixed; boundary="evil"\r\n'), signed,
      Buffer.from('\r\n--evil\r\nContent-Type: text/plain\r\n\r\nAPPENDED: wire the money to account 666\r\n--evil--\r\n')]);
  }
  return signed;
}

const klass = (code: number | undefined) => (code === undefined ? "none" : `${String(code)[0]}xx`);

describe("hostile email corpus", () => {
  let s: Awaited<ReturnType<typeof startAdapter>>;
  let blobs: DirectoryBlobStore;
  beforeAll(async () => { s = await startAdapter(mta, { listen: { host: "127.0.0.1", port: 0 }, rateLimits: { perSenderPerMinute: 10_000, perIpPerMinute: 10_000 } }); blobs = new DirectoryBlobStore(s.config.blobDir); });
  afterAll(async () => { await s.adapter.stop(); });

  it("has at least 50 messages, each listed once", () => {
    expect(table.length).toBeGreaterThanOrEqual(50);
    expect(new Set(table.map((e) => e.file)).size).toBe(table.length);
  });

  for (const e of table) {
    it(`T-2.5.1 T-5.4.8 ${e.chat?.opaque ? "T-5.4.9 " : ""}${e.file}: ${e.what} → ${e.smtp}${e.chat ? (e.chat.bridged ? ", shown in chat" : ", not bridged") : ""}`, async () => {
      const raw = e.sign ? await signAndTamper(readFileSync(join(corpus, e.file)), e.sign) : readFileSync(join(corpus, e.file));
      const before = s.ctx.accepted.length;
      const r = await smtpSend(s.adapter.port, { from: e.mailFrom ?? "sender@nodmarc.test", to: e.rcpt ?? ["alice@chat.example.org"] }, raw);
      expect(r.greeting).toBe(220);
      const decisive = e.at === "rcpt" ? r.rcpt[0] : r.final;
      expect(klass(decisive), `reply ${decisive} ${r.finalText ?? ""}`).toBe(e.smtp);
      const events = s.ctx.accepted.slice(before).filter((x): x is MessageEvent => x.kind === "message");
      if (!e.chat || !e.chat.bridged) {
        expect(events).toHaveLength(0);
        return;
      }
      expect(events).toHaveLength(1);
      const m = events[0]!.message;
      const text = plainText(m);
      expect(text.length).toBeGreaterThan(0); // a readable text part, always (T-5.4.8)
      for (const t of e.chat.textIncludes ?? []) expect(text).toContain(t);
      for (const t of e.chat.textExcludes ?? []) expect(text).not.toContain(t);
      const html = m.parts.filter((p) => p.role === "html").map((p) => p.body).join("");
      for (const t of e.chat.htmlExcludes ?? []) expect(html).not.toContain(t);
      if (e.chat.attachments !== undefined) expect(m.parts.filter((p) => p.role === "attachment")).toHaveLength(e.chat.attachments);
      if (e.chat.opaque !== undefined) {
        const opaque = m.parts.filter((p) => p.role === "opaque");
        expect(opaque).toHaveLength(e.chat.opaque);
        // T-2.5.1 / T-5.4.9: a signed message is relayed byte-identical, so its signature still verifies.
        for (const p of opaque) expect((await blobs.get(p.blobRef)).toString("latin1").replace(/\r\n$/, "")).toBe(raw.toString("latin1").replace(/\r\n$/, ""));
        // ... and the same bytes go to chat as a file (test/e2e/cross/signed-mail.test.ts verifies one).
        for (const p of opaque) expect(m.parts.some((x) => x.role === "attachment" && x.blobRef === p.blobRef && x.contentType === "message/rfc822")).toBe(true);
      }
      if (e.chat.fromAddress) expect(m.from.address).toBe(e.chat.fromAddress);
      const json = JSON.stringify(m);
      for (const t of e.chat.nowhere ?? []) expect(json).not.toContain(t);
      // Text added after a DKIM l= signature is never presented as the sender's own words.
      if (e.sign && e.sign.tamper !== "none") expect(m.authenticatedBy.method).toBe("none");
    });
  }

  it("the listener is still up and bridging after the corpus", async () => {
    expect(s.adapter.health().ready).toBe(true);
    const raw = `From: sender@nodmarc.test\r\nTo: alice@chat.example.org\r\nSubject: after\r\nMessage-ID: <after@nodmarc.test>\r\n\r\nstill alive\r\n`;
    const r = await smtpSend(s.adapter.port, { from: "sender@nodmarc.test", to: ["alice@chat.example.org"] }, raw);
    expect(r.final).toBe(250);
    expect(s.ctx.accepted.some((x) => x.kind === "message" && plainText(x.message).includes("still alive"))).toBe(true);
  });
});
