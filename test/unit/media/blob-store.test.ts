/** The shared blob store (issue 13): content-addressed, streamed, bounded, swept; media types from magic bytes. */
import { mkdtemp, rm, utimes, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BlobStore } from "../../../src/media/blob-store.js";
import { sweep } from "../../../src/media/sweeper.js";
import { sniff } from "../../../src/media/sniff.js";
import { isParleyError } from "../../../src/errors/parley-error.js";
import { opus, pdf, png, sha256 } from "../../support/media-samples.js";

let dir: string;
beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), "parley-blobs-")); });
afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

const store = (over: Partial<ConstructorParameters<typeof BlobStore>[0]> = {}) =>
  new BlobStore({ dir, maxBlobBytes: 1024 * 1024, maxTotalBytes: 10 * 1024 * 1024, maxBlobs: 100, ...over });

function chunks(n: number, size: number): Readable {
  let i = 0;
  return new Readable({ read() { this.push(i++ < n ? Buffer.alloc(size, i) : null); } });
}

describe("blob store", () => {
  it("stores by content hash and reads back the same bytes, streamed", async () => {
    const s = store();
    const image = png(32, 16);
    const a = await s.put(Readable.from([image.subarray(0, 10), image.subarray(10)]));
    expect(a.ref).toBe(`sha256:${sha256(image)}`);
    expect(a.size).toBe(image.length);
    expect(sha256(await s.read(a.ref))).toBe(sha256(image));
    const again = await s.put(image);
    expect(again.ref).toBe(a.ref);
  });

  it("refuses a stream past the size cap and leaves no file behind", async () => {
    const s = store({ maxBlobBytes: 100 * 1024 });
    await expect(s.put(chunks(10, 16 * 1024))).rejects.toSatisfy((e) => isParleyError(e, "PARLEY_TOO_LARGE"));
    expect(await readdir(dir)).toEqual([]);
  });

  it("refuses puts when the store is full, by bytes or by count", async () => {
    const s = store({ maxBlobs: 1 });
    await s.put(Buffer.from("one"));
    await expect(s.put(Buffer.from("two"))).rejects.toSatisfy((e) => isParleyError(e, "PARLEY_UNAVAILABLE"));
    await sweep(s, 60_000);
    await expect(s.put(Buffer.from("three"))).rejects.toSatisfy((e) => isParleyError(e, "PARLEY_UNAVAILABLE"));
  });

  it("never turns a reference into a path outside the store", async () => {
    const s = store();
    for (const ref of ["../../etc/passwd", "sha256:../../x", `sha256:${"a".repeat(63)}/`]) {
      await expect(s.open(ref)).rejects.toSatisfy((e) => isParleyError(e, "PARLEY_INVALID_EVENT"));
    }
  });

  it("the sweeper removes blobs past their time to live and keeps fresh ones", async () => {
    const s = store();
    const old = await s.put(Buffer.from("old"));
    const fresh = await s.put(Buffer.from("fresh"));
    const longAgo = new Date(Date.now() - 2 * 3600_000);
    await utimes(s.path(old.ref), longAgo, longAgo);
    const r = await sweep(s, 3600_000);
    expect(r).toMatchObject({ removed: 1, kept: 1 });
    await expect(s.open(old.ref)).rejects.toSatisfy((e) => isParleyError(e, "PARLEY_NOT_FOUND"));
    expect((await s.read(fresh.ref)).toString()).toBe("fresh");
  });
});

describe("media type from magic bytes", () => {
  it("recognises an image, a PDF and a voice note, with image dimensions", async () => {
    expect(await sniff(png(40, 30), "image/png")).toEqual({ contentType: "image/png", corrected: false, width: 40, height: 30 });
    expect(await sniff(pdf(), undefined)).toMatchObject({ contentType: "application/pdf" });
    expect(await sniff(opus(), "audio/ogg")).toMatchObject({ contentType: "audio/ogg", corrected: false });
  });

  it("believes the bytes, not the declared type", async () => {
    expect(await sniff(png(2, 2), "application/pdf")).toMatchObject({ contentType: "image/png", corrected: true });
    expect(await sniff(Buffer.from("<script>alert(1)</script>"), "image/png")).toMatchObject({ contentType: "application/octet-stream", corrected: true });
    expect(await sniff(Buffer.from("<svg onload=x>"), "image/svg+xml")).toMatchObject({ contentType: "application/octet-stream" });
  });

  it("keeps a declared type the bytes cannot contradict, and drops malformed ones", async () => {
    expect(await sniff(Buffer.from("hello"), "Text/Plain; charset=utf-8")).toMatchObject({ contentType: "text/plain", corrected: false });
    expect(await sniff(Buffer.from("hello"), "not a type\r\nX: y")).toMatchObject({ contentType: "application/octet-stream" });
  });
});
