/** The media listener serves stored files only at signed, unexpired URLs (issue 13). */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MediaService } from "../../../src/media/service.js";
import { MediaSchema } from "../../../src/media/config.js";
import { silentLogger } from "../../../src/log/logger.js";
import { isParleyError } from "../../../src/errors/parley-error.js";
import { png, sha256 } from "../../support/media-samples.js";

let dir: string;
let media: MediaService;
const scope = { network: "xmpp", domain: "chat.example.org" };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "parley-media-"));
  const config = MediaSchema.parse({
    dir,
    listener: { enabled: true, port: 0, secret: "0123456789abcdef0123456789" },
    limits: { default: { maxBytes: 1024 * 1024, maxFiles: 2 }, networks: { email: { allowedTypes: ["image/*"] } }, domains: { "tiny.example": { maxBytes: 100 } } },
  });
  media = new MediaService({ config, log: silentLogger() });
  await media.start();
});
afterAll(async () => {
  await media.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("media service and listener", () => {
  it("stores a file with its checked type and dimensions and serves it at its signed URL", async () => {
    const image = png(64, 48);
    const part = await media.store(image, { filename: "../../shot.png", contentType: "application/pdf" }, scope);
    expect(part).toMatchObject({ contentType: "image/png", filename: "shot.png", size: image.length, width: 64, height: 48, blobRef: `sha256:${sha256(image)}` });
    const url = media.publicUrl(part)!;
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/png");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(sha256(Buffer.from(await res.arrayBuffer()))).toBe(sha256(image));
  });

  it("refuses a tampered or unsigned URL", async () => {
    const part = await media.store(Buffer.from("hello"), { filename: "a.txt", contentType: "text/plain" }, scope);
    const url = new URL(media.publicUrl(part)!);
    const parts = url.pathname.split("/");
    parts[3] = parts[3]!.replace(/^./, (c) => (c === "A" ? "B" : "A"));
    expect((await fetch(new URL(parts.join("/"), url))).status).toBe(404);
    expect((await fetch(new URL(`/m/${"x".repeat(20)}`, url))).status).toBe(404);
    expect((await fetch(url, { method: "POST" })).status).toBe(405);
  });

  it("applies limits per network and per domain", async () => {
    await expect(media.store(Buffer.from("x".repeat(200)), { contentType: "text/plain" }, { network: "xmpp", domain: "tiny.example" })).rejects.toSatisfy((e) => isParleyError(e, "PARLEY_TOO_LARGE"));
    await expect(media.store(Buffer.from("%PDF-1.4\n"), { contentType: "application/pdf" }, { network: "email", domain: "example.org" })).rejects.toSatisfy((e) => isParleyError(e, "PARLEY_UNSUPPORTED"));
    const part = await media.store(Buffer.from("hi"), { contentType: "text/plain" }, scope);
    expect(media.check([part, part, part], scope)?.code).toBe("PARLEY_TOO_LARGE");
    expect(media.check([part], scope)).toBeUndefined();
  });
});
