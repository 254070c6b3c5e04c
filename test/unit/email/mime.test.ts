/** Pure pieces of the email adapter: MIME bounds, header safety, SMTP classification, DSN compose/parse, auth verdicts. */
import { describe, expect, it } from "vitest";
import type { AuthenticateResult } from "mailauth";
import { checkMimeBounds, MimeLimitError, topHeader } from "../../../adapters/email/mime-limits.js";
import { headerSafe } from "../../../adapters/email/headers.js";
import { classifySendError, reasonForStatus } from "../../../adapters/email/errors.js";
import { composeFailureDsn, parseDsn, stateOfAction } from "../../../adapters/email/dsn.js";
import { verdictOf } from "../../../adapters/email/auth.js";
import { automaticKind } from "../../../adapters/email/parse.js";
import { RateWindow } from "../../../adapters/email/smtp-in.js";

const bounds = { maxParts: 200, maxDepth: 20, maxHeaderLineBytes: 998, maxHeaderFields: 1000 };

function nested(depth: number): string {
  let body = "Content-Type: text/plain\r\n\r\nleaf\r\n";
  for (let i = 0; i < depth; i++) body = `Content-Type: multipart/mixed; boundary="b${i}"\r\n\r\n--b${i}\r\n${body}--b${i}--\r\n`;
  return `From: a@b.c\r\nSubject: x\r\nMIME-Version: 1.0\r\n${body}`;
}

describe("MIME bounds", () => {
  it("counts nested parts and refuses nesting past the limit", () => {
    expect(checkMimeBounds(Buffer.from(nested(20)), bounds)).toBe(21);
    expect(() => checkMimeBounds(Buffer.from(nested(21)), bounds)).toThrow(MimeLimitError);
  });
  it("refuses too many parts, too many fields and over-long header lines (RFC 5322 §2.1.1)", () => {
    const many = `From: a@b.c\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n${"--x\r\nContent-Type: text/plain\r\n\r\nhi\r\n".repeat(201)}--x--\r\n`;
    expect(() => checkMimeBounds(Buffer.from(many), bounds)).toThrow(/parts/);
    expect(() => checkMimeBounds(Buffer.from(`From: a@b.c\r\nSubject: ${"x".repeat(1000)}\r\n\r\nbody`), bounds)).toThrow(/998/);
    expect(() => checkMimeBounds(Buffer.from(`From: a@b.c\r\n${"X-A: 1\r\n".repeat(1001)}\r\nbody`), bounds)).toThrow(/header fields/);
    expect(() => checkMimeBounds(Buffer.from("no header here"), bounds)).toThrow(/header/);
  });
  it("reads unfolded top-level headers", () => {
    expect(topHeader(Buffer.from("Subject: a\r\n b\r\nX: 1\r\n\r\nSubject: body"), "subject")).toBe("a b");
  });
});

describe("header safety", () => {
  it("removes CR, LF, NUL and other controls", () => {
    expect(headerSafe("a\r\nBcc: x\u0000y\u2028z")).toBe("a Bcc: x y z");
  });
});

describe("SMTP replies", () => {
  it("T-4.2.1 classifies relay replies: 4xx transient, 5xx permanent, connection errors transient", () => {
    expect(classifySendError({ responseCode: 550, response: "550 5.1.1 <x>: Recipient address rejected" }).failureClass).toBe("permanent");
    expect(classifySendError({ responseCode: 550, response: "550 5.1.1 x" }).reason).toBe("recipient-unknown");
    expect(classifySendError({ responseCode: 451, response: "451 4.3.0 try later" }).failureClass).toBe("transient");
    expect(classifySendError({ responseCode: 421, response: "421 4.7.0 too many connections" }).failureClass).toBe("rate-limited");
    expect(classifySendError({ code: "ECONNECTION", message: "connect ECONNREFUSED" }).failureClass).toBe("transient");
    expect(reasonForStatus("5.3.4")).toBe("too-large");
    expect(reasonForStatus("5.7.1")).toBe("refused-by-policy");
  });
});

describe("DSN", () => {
  it("T-5.4.1 composes an RFC 3464 report that parses back", async () => {
    const raw = composeFailureDsn({
      reportingMta: "parley.test", postmaster: "mailer-daemon@gw.example.org", to: "carol@example.org", finalRecipient: "alice@chat.example.org",
      reason: "recipient-unknown", text: "no such user", original: { messageId: "<m1@example.org>", subject: "hi" }, arrival: new Date(),
    });
    expect(raw).toMatch(/Auto-Submitted: auto-replied/);
    const report = await parseDsn(Buffer.from(raw));
    expect(report?.originalMessageId).toBe("<m1@example.org>");
    expect(report?.recipients).toEqual([{ finalRecipient: "alice@chat.example.org", action: "failed", status: "5.1.1", diagnostic: "x-parley; no such user" }]);
    expect(stateOfAction(report!.recipients[0]!)).toEqual({ state: "failed", reason: "recipient-unknown" });
    expect(stateOfAction({ action: "delayed", status: "4.4.1", finalRecipient: undefined, diagnostic: undefined })).toBeUndefined();
    expect(await parseDsn(Buffer.from("From: a@b.c\r\n\r\nnot a report"))).toBeUndefined();
  });
});

function authResult(o: { from?: string[]; dkim?: Array<{ d: string; r: string; aligned?: string | false }>; spf?: [string, string]; dmarc?: string }): AuthenticateResult {
  return {
    dkim: { headerFrom: o.from ?? ["carol@example.org"], fromFields: 1, envelopeFrom: false, results: (o.dkim ?? []).map((x) => ({ signingDomain: x.d, status: { result: x.r, ...(x.aligned !== undefined ? { aligned: x.aligned } : {}) }, info: "" })) },
    spf: o.spf ? { domain: o.spf[0], "client-ip": "127.0.0.1", status: { result: o.spf[1] }, header: "", info: "" } : false,
    dmarc: o.dmarc ? { status: { result: o.dmarc } } : false,
    arc: false, bimi: false, headers: "",
  } as unknown as AuthenticateResult;
}

describe("sender verdicts (T-5.1.1)", () => {
  it("T-5.1.1 trusts DMARC pass; without a DMARC record, aligned DKIM or SPF", () => {
    expect(verdictOf(authResult({ dmarc: "pass", dkim: [{ d: "example.org", r: "pass" }] }), "carol@example.org")).toMatchObject({ trusted: true, method: "dmarc", aligned: true });
    expect(verdictOf(authResult({ dmarc: "none", dkim: [{ d: "mail.example.org", r: "pass", aligned: "example.org" }] }), "x@y.z")).toMatchObject({ trusted: true, method: "dkim" });
    expect(verdictOf(authResult({ dmarc: "none", spf: ["example.org", "pass"] }), "carol@example.org")).toMatchObject({ trusted: true, method: "spf" });
  });
  it("T-5.1.1 never trusts a spoofed From: DMARC fail, unaligned passes, several From mailboxes", () => {
    expect(verdictOf(authResult({ dmarc: "fail", spf: ["evil.test", "pass"], dkim: [{ d: "evil.test", r: "pass" }] }), "m@evil.test")).toMatchObject({ trusted: false, aligned: false });
    expect(verdictOf(authResult({ dmarc: "none", spf: ["evil.test", "pass"] }), "m@evil.test")).toMatchObject({ trusted: false });
    expect(verdictOf(authResult({ from: ["a@example.org", "b@example.org"], dmarc: "pass" }), "a@example.org").trusted).toBe(false);
    // Public suffixes: a DKIM pass for evil.co.uk does not align with victim.co.uk (mailauth says so),
    // nor does an SPF pass (strict without a DMARC record).
    const uk = { from: ["v@victim.co.uk"], dmarc: "none" };
    expect(verdictOf(authResult({ ...uk, dkim: [{ d: "evil.co.uk", r: "pass", aligned: false }] }), "m@evil.co.uk").trusted).toBe(false);
    expect(verdictOf(authResult({ ...uk, spf: ["evil.co.uk", "pass"] }), "m@evil.co.uk").trusted).toBe(false);
    expect(verdictOf(authResult({ ...uk, spf: ["bounce.victim.co.uk", "pass"] }), "m@bounce.victim.co.uk").trusted).toBe(false);
  });
});

describe("loop safety (RFC 3834)", () => {
  it("recognises automatic and list mail", () => {
    const m = (h: string) => Buffer.from(`From: a@b.c\r\n${h}\r\n\r\nx`);
    expect(automaticKind(m("Auto-Submitted: auto-replied"))).toMatch(/auto-submitted/);
    expect(automaticKind(m("Auto-Submitted: no"))).toBeUndefined();
    expect(automaticKind(m("Precedence: list"))).toMatch(/precedence/);
    expect(automaticKind(m("List-Id: <l.example>"))).toBe("list-id");
    expect(automaticKind(m("Subject: hi"))).toBeUndefined();
  });
  it("rate window counts per key per minute", () => {
    const t = Date.now();
    const w = new RateWindow(2);
    expect([w.hit("a", t), w.hit("a", t + 1), w.hit("a", t + 2), w.hit("b", t + 3), w.hit("a", t + 60_001)]).toEqual([true, true, false, true, true]);
  });
});

describe("sender verdicts: DNS trouble", () => {
  it("T-5.1.1 a temporary DNS error is not a failure: the sender is asked to retry", () => {
    expect(verdictOf(authResult({ dmarc: "temperror", spf: ["example.org", "temperror"] }), "carol@example.org")).toMatchObject({ trusted: false, temporary: true });
    expect(verdictOf(authResult({ dmarc: "fail", spf: ["evil.test", "pass"] }), "m@evil.test").temporary).toBe(false);
  });
});
