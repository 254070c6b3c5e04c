/** The pure parts of each adapter's media translation (issue 13): what a stanza or event offers, and what is sent. */
import { describe, expect, it } from "vitest";
import { xml } from "../../../adapters/xmpp/connection.js";
import { bodyIsOffer, fetchError, offeredFiles } from "../../../adapters/xmpp/media/inbound.js";
import { captionOf, declaredOf } from "../../../adapters/matrix/media/inbound.js";
import { parseMxc } from "../../../adapters/matrix/media/http.js";
import { infoOf, msgtypeForType } from "../../../adapters/matrix/media/outbound.js";
import { attachmentParts, replyForMediaError } from "../../../adapters/email/media.js";
import type { MediaPort } from "../../../src/adapter/media.js";
import { endpoint } from "../../../src/model/address.js";
import { ParleyError } from "../../../src/errors/parley-error.js";

const oob = (url: string, desc?: string) => xml("x", { xmlns: "jabber:x:oob" }, xml("url", {}, url), ...(desc ? [xml("desc", {}, desc)] : []));

describe("XMPP: files offered by a stanza", () => {
  it("takes XEP-0066 URLs, and knows a body equal to one is no caption", () => {
    const url = "https://upload.example.org/abc/photo.png";
    const el = xml("message", {}, xml("body", {}, url), oob(url, "a photo"));
    const offers = offeredFiles(el, [url], []);
    expect(offers).toEqual([{ url, desc: "a photo" }]);
    expect(bodyIsOffer(` ${url} `, offers)).toBe(true);
    expect(bodyIsOffer("look at this", offers)).toBe(false);
  });

  it("a bare body URL is a file only on an upload host; otherwise it stays a link", () => {
    const el = xml("message", {}, xml("body", {}, "https://upload.example.org/x/a.pdf"));
    expect(offeredFiles(el, ["https://upload.example.org/x/a.pdf"], ["upload.example.org"])).toHaveLength(1);
    expect(offeredFiles(el, ["https://upload.example.org/x/a.pdf"], [])).toHaveLength(0);
    expect(offeredFiles(el, ["see https://upload.example.org/x/a.pdf"], ["upload.example.org"])).toHaveLength(0);
  });

  it("a download that timed out or was refused by its server is answered as such, with the file named", () => {
    const timeout = fetchError(new ParleyError("PARLEY_UNAVAILABLE", "The file u was not carried: the download took too long", { reason: "timeout" }));
    expect(timeout).toEqual({ type: "wait", condition: "remote-server-timeout", text: "The file u was not carried: the download took too long" });
    expect(fetchError(new ParleyError("PARLEY_UNAVAILABLE", "x", { reason: "status" })).condition).toBe("remote-server-not-found");
    expect(fetchError(new ParleyError("PARLEY_TOO_LARGE", "The file u was not carried: too big"))).toMatchObject({ condition: "policy-violation", text: "The file u was not carried: too big" });
    // A failure of the gateway itself (the store is full) keeps the neutral text.
    expect(fetchError(new ParleyError("PARLEY_UNAVAILABLE", "disk full")).text).not.toContain("disk");
  });

  it("reads at most ten OOB elements", () => {
    const el = xml("message", {}, ...Array.from({ length: 30 }, (_, i) => oob(`https://h.example/${i}`)));
    expect(offeredFiles(el, [], [])).toHaveLength(10);
  });
});

describe("Matrix: media events both ways", () => {
  it("reads filename, mimetype, dimensions and duration from info; body is a caption only beside a filename", () => {
    const c = { msgtype: "m.image", body: "our logo", filename: "logo.png", url: "mxc://hs/abc", info: { mimetype: "image/png", w: 64, h: 48, size: 10, duration: 1200 } };
    expect(declaredOf(c)).toEqual({ filename: "logo.png", contentType: "image/png", width: 64, height: 48, durationMs: 1200 });
    expect(captionOf(c)).toBe("our logo");
    expect(captionOf({ body: "logo.png", filename: "logo.png" })).toBe("");
    expect(captionOf({ body: "logo.png" })).toBe("");
    expect(declaredOf({ body: "x.bin", info: { w: -1, h: 3.5 } })).toEqual({ filename: "x.bin" });
  });

  it("parses only well-formed mxc URIs", () => {
    expect(parseMxc("mxc://matrix.example.org/AbC_12-x")).toEqual({ server: "matrix.example.org", mediaId: "AbC_12-x" });
    expect(parseMxc("mxc://matrix.example.org/../../etc")).toBeUndefined();
    expect(parseMxc("https://matrix.example.org/a")).toBeUndefined();
  });

  it("sends the msgtype of the file's family, with info from the store", () => {
    expect(msgtypeForType("image/webp")).toBe("m.image");
    expect(msgtypeForType("audio/ogg")).toBe("m.audio");
    expect(msgtypeForType("video/mp4")).toBe("m.video");
    expect(msgtypeForType("application/pdf")).toBe("m.file");
    expect(infoOf({ role: "attachment", contentType: "image/png", size: 9, blobRef: "sha256:x", width: 2, height: 3 })).toEqual({ mimetype: "image/png", size: 9, w: 2, h: 3 });
    expect(infoOf({ role: "attachment", contentType: "audio/ogg", size: 9, blobRef: "sha256:x", durationMs: 4000 })).toEqual({ mimetype: "audio/ogg", size: 9, duration: 4000 });
  });
});

describe("email: refusals at SMTP", () => {
  it("too large → 552 5.3.4 naming the limit, type → 554 5.6.1, store full → 451", () => {
    expect(replyForMediaError(new ParleyError("PARLEY_TOO_LARGE", "a.pdf is 9 bytes; at most 5 are accepted"))).toMatchObject({ code: 552 });
    expect(replyForMediaError(new ParleyError("PARLEY_TOO_LARGE", "a.pdf is 9 bytes; at most 5 are accepted")).text).toContain("at most 5");
    expect(replyForMediaError(new ParleyError("PARLEY_UNSUPPORTED", "x"))).toMatchObject({ code: 554 });
    expect(replyForMediaError(new ParleyError("PARLEY_UNAVAILABLE"))).toMatchObject({ code: 451 });
  });
});

describe("email: attachments in", () => {
  it("more files than the sender's limit are refused before any is stored", async () => {
    const stored: string[] = [];
    const media = {
      limits: () => ({ maxBytes: 100, maxFiles: 1, allowedTypes: [] }),
      store: async (_b: Buffer, d: { filename?: string }) => { stored.push(d.filename ?? ""); return { role: "attachment" as const, contentType: "text/plain", size: 1, blobRef: "sha256:x" }; },
    } as unknown as MediaPort;
    const blobs = { put: () => Promise.reject(new Error("not used")), get: () => Promise.reject(new Error("not used")), open: () => Promise.reject(new Error("not used")) };
    const files = [{ content: Buffer.from("a"), contentType: "text/plain", filename: "a.txt" }, { content: Buffer.from("b"), contentType: "text/plain", filename: "b.txt" }];
    const from = endpoint("carol@example.org", "email");
    await expect(attachmentParts(media, blobs, files, from)).rejects.toMatchObject({ code: "PARLEY_TOO_LARGE", message: expect.stringContaining("at most 1") });
    expect(stored).toEqual([]);
    expect(await attachmentParts(media, blobs, files.slice(1), from)).toHaveLength(1);
    expect(stored).toEqual(["b.txt"]);
  });
});
