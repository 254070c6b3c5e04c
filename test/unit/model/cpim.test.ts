import { describe, expect, it } from "vitest";
import { MessageSchema, type MessageInput } from "../../../src/model/message.js";
import { newCanonicalId } from "../../../src/model/ids.js";
import { parseCpim, serializeCpim } from "../../../src/model/cpim.js";

const base: MessageInput = {
  id: newCanonicalId(),
  from: { address: "alice@chat.example.org", network: "xmpp" },
  authenticatedBy: { method: "network", detail: "component link" },
  to: { address: "bob@matrix.example.org", network: "matrix" },
  sentAt: "2026-12-06T00:20:00.000Z",
  parts: [{ role: "text", body: "Hello Bob" }],
};

const rich: MessageInput = {
  ...base,
  id: newCanonicalId(),
  nativeIds: [{ network: "xmpp", kind: "origin-id", id: "abc-123", scope: "alice@chat.example.org/laptop" }, { network: "matrix", kind: "event", id: "$ev:matrix.example.org" }],
  displayName: 'Alice "Al" Liddell \\ Wonderland',
  replyTo: { address: "alice@example.org", network: "email" },
  subject: { en: "Lunch?\r\nReally", cs: "Oběd?" },
  kind: "emote",
  thread: "thread-1",
  inReplyTo: newCanonicalId(),
  replaces: newCanonicalId(),
  lang: "en",
  parts: [
    { role: "text", body: "line one\r\nline two\n--not-a-boundary\r\n\r\nContent-Type: fake\r\n", lang: "en" },
    { role: "html", body: "<p>line <b>one</b></p>" },
    { role: "attachment", contentType: "image/png", filename: 'cat "1".png', size: 1234, blobRef: "blob:sha256:abcd" },
    { role: "opaque", contentType: "application/pkcs7-signature", blobRef: "blob:sha256:ef01", size: 99, security: "signed" },
  ],
  receiptRequest: { delivered: true, displayed: false },
  requireE2E: true,
  hops: 7,
  extensions: { "urn:example:ext": { payload: { a: [1, "two\nthree"] }, mustUnderstand: true }, "urn:example:plain": { payload: "x" } },
};

describe("Message/CPIM (RFC 3862) for canonical messages (T-4.1.10)", () => {
  it("T-4.1.10 a plain message is a readable CPIM object with From, To, DateTime, NS and a text/plain body", () => {
    const text = serializeCpim(MessageSchema.parse(base));
    const [outer, headers, body] = text.split("\r\n\r\n");
    expect(outer).toBe("Content-Type: message/cpim");
    expect(headers).toContain("From: <im:alice@chat.example.org>");
    expect(headers).toContain("To: <im:bob@matrix.example.org>");
    expect(headers).toContain("DateTime: 2026-12-06T00:20:00.000Z");
    expect(headers).toContain("NS: Parley <urn:parley:cpim:0#>");
    expect(headers).not.toContain("Require:");
    expect(body).toBe("Content-Type: text/plain; charset=utf-8");
    expect(text.endsWith("\r\n\r\nHello Bob")).toBe(true);
  });

  it.each([["plain", base], ["every field", rich]])("T-4.1.10 %s: parse ∘ serialise keeps every canonical field", (_, input) => {
    const m = MessageSchema.parse(input);
    expect(parseCpim(serializeCpim(m))).toEqual(m);
  });

  it("T-4.1.10 writes one Subject per language, MIME multipart bodies, and Require for what must be understood", () => {
    const text = serializeCpim(MessageSchema.parse(rich));
    expect(text).toContain("Subject:;lang=en Lunch?\\r\\nReally");
    expect(text).toContain("Subject:;lang=cs Oběd?");
    expect(text).toContain("Require: Parley.Require-E2E,Parley.Extension");
    expect(text).toMatch(/Content-Type: multipart\/mixed; boundary="parley-[0-9a-f]+"/);
    expect(text).toContain("Content-Type: message/external-body; access-type=x-parley-blob");
  });

  it("T-4.1.10 reads a CPIM written elsewhere, and refuses one that requires a header Parley does not understand", () => {
    const foreign = ["From: MR SANDERS <im:piglet@100akerwood.com>", "To: Depressed Donkey <im:eeyore@100akerwood.com>", "DateTime: 2000-12-13T13:40:00-08:00", "Subject: the weather will be fine today", "Subject:;lang=fr beau temps prevu pour aujourd'hui", "NS: MyFeatures <mid:MessageFeatures@id.foo.com>", "MyFeatures.VitalMessageOption: Confirmation-requested", "", "Content-Type: text/xml; charset=utf-8", "", "<body>Here is the text of my message.</body>"].join("\r\n");
    expect(() => parseCpim(foreign, { network: "sip" })).toThrow(/unsupported part text\/xml/);
    const plain = foreign.replace("text/xml", "text/plain");
    const m = parseCpim(plain, { network: "sip" });
    expect(m).toMatchObject({ from: { address: "piglet@100akerwood.com" }, displayName: "MR SANDERS", subject: { und: "the weather will be fine today", fr: "beau temps prevu pour aujourd'hui" }, authenticatedBy: { method: "none" } });
    expect(m.parts).toEqual([{ role: "text", body: "<body>Here is the text of my message.</body>" }]);
    expect(() => parseCpim(plain.replace("NS:", "Require: MyFeatures.VitalMessageOption\r\nNS:"), { network: "sip" })).toThrow(/does not understand/);
    expect(() => parseCpim("From: <im:a@b.c>", { network: "sip" })).toThrow(/empty line/);
  });
});
