/** RFC 2779 5.4.9: a signed mail goes to chat whole, as one .eml file, and to a mailbox attached once. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { DirectoryBlobStore } from "../../../adapters/email/blobs.js";
import { filesToCarry, outboundFiles } from "../../../adapters/email/media.js";
import { MessageSchema } from "../../../src/model/message.js";

const raw = Buffer.from('Content-Type: multipart/signed; protocol="application/pkcs7-signature"; boundary="b"\r\n\r\n--b\r\n...\r\n--b--\r\n');
const p7s = { content: Buffer.from("sig"), contentType: "application/pkcs7-signature", filename: "smime.p7s" };
const asc = { content: Buffer.from("sig"), contentType: "application/pgp-signature", filename: "signature.asc" };
const pdf = { content: Buffer.from("%PDF-1.4"), contentType: "application/pdf", filename: "a.pdf" };
const dir = mkdtempSync(join(tmpdir(), "parley-signed-unit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("T-5.4.9 signed mail as a file", () => {
  it("a signed mail carries its other files and itself whole as message/rfc822, never the lone signature", () => {
    const files = filesToCarry(raw, "signed", [pdf, p7s, asc]);
    expect(files.map((f) => f.filename)).toEqual(["a.pdf", "signed-message.eml"]);
    expect(files[1]).toMatchObject({ contentType: "message/rfc822" });
    expect(files[1]!.content.equals(raw)).toBe(true);
  });

  it("an unsigned or encrypted mail carries its files as they are", () => {
    expect(filesToCarry(raw, undefined, [pdf, p7s])).toEqual([pdf, p7s]);
    expect(filesToCarry(raw, "encrypted", [pdf])).toEqual([pdf]);
  });

  it("to a mailbox, the signed mail kept as an opaque part and carried as a file is attached once", async () => {
    const blobs = new DirectoryBlobStore(dir);
    const ref = await blobs.put(raw);
    const m = MessageSchema.parse({
      id: "0190f5c6-1a2b-7c3d-8e4f-5a6b7c8d9e10", from: { network: "email", address: "carol@example.org" }, authenticatedBy: { method: "signature" },
      to: { network: "email", address: "dave@example.net" }, sentAt: "2026-12-06T15:00:00.000Z",
      parts: [{ role: "text", body: "hi" }, { role: "attachment", contentType: "message/rfc822", filename: "signed-message.eml", size: raw.length, blobRef: ref },
        { role: "opaque", contentType: "message/rfc822", size: raw.length, blobRef: ref, security: "signed" }],
    });
    const out = await outboundFiles(undefined, blobs, m);
    expect(out.attachments.map((a) => a.filename)).toEqual(["signed-message.eml"]);
    expect(Buffer.concat(await (out.attachments[0]!.content as Readable).toArray()).equals(raw)).toBe(true);
    const alone = await outboundFiles(undefined, blobs, { ...m, parts: m.parts.filter((p) => p.role !== "attachment") });
    expect(alone.attachments).toHaveLength(1);
    expect(Buffer.concat(await (alone.attachments[0]!.content as Readable).toArray()).equals(raw)).toBe(true);
  });
});
