/**
 * Files in linked rooms (issue 13 in rooms), the pure translations: a room message's groupchats in
 * a MUC (adapters/xmpp/muc/files-out.ts) — its text, then one body per file that is only the file's
 * link, with OOB — and the domain whose limits a linked Matrix room's files meet.
 */
import { describe, expect, it } from "vitest";
import type { AttachmentPart } from "../../../src/adapter/media.js";
import { mucBodies } from "../../../adapters/xmpp/muc/files-out.js";
import { serverOf } from "../../../adapters/matrix/rooms/linked.js";

const png: AttachmentPart = { role: "attachment", contentType: "image/png", filename: "cat.png", size: 1234, blobRef: "sha256:aa", width: 2, height: 2 };
const pdf: AttachmentPart = { role: "attachment", contentType: "application/pdf", filename: "a.pdf", size: 99, blobRef: "sha256:bb" };
const url = (p: AttachmentPart) => `https://media.example.org/m/x/y/${p.filename}`;

describe("a room message's groupchats in a MUC", () => {
  it("a message without files is one body, its text (a space when empty)", () => {
    expect(mucBodies({ parts: [{ role: "text", body: "hi" }] }, [])).toEqual([{ body: "hi" }]);
    expect(mucBodies({ parts: [{ role: "text", body: "" }] }, [])).toEqual([{ body: " " }]);
  });

  it("an image without caption is one body that is only its link, carrying the file (OOB)", () => {
    const file = { part: png, url: url(png) };
    expect(mucBodies({ parts: [{ role: "text", body: "" }, png] }, [file])).toEqual([{ body: url(png), file }]);
  });

  it("a caption comes first on its own, then one body per file", () => {
    const files = [{ part: png, url: url(png) }, { part: pdf, url: url(pdf) }];
    expect(mucBodies({ parts: [{ role: "text", body: "our logo" }, png, pdf] }, files)).toEqual([{ body: "our logo" }, { body: url(png), file: files[0] }, { body: url(pdf), file: files[1] }]);
  });

  it("without a media listener (no links) each file is named in the text instead", () => {
    expect(mucBodies({ parts: [{ role: "text", body: "see" }, png] }, [])).toEqual([{ body: "see\n[attachment: cat.png, 1234 bytes]" }]);
  });
});

describe("the limits a linked Matrix room's files meet", () => {
  it("are those of the room's server, without a port", () => {
    expect(serverOf("!abc:Example.org")).toBe("example.org");
    expect(serverOf("!abc:localhost:8448")).toBe("localhost");
  });
});
