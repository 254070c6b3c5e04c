/** Voice-note length from an Ogg/Opus file's last page (RFC 7845 §4), so Matrix gets info.duration. */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { lastGranule, opusDurationMs, opusPreSkip } from "../../../src/media/duration.js";
import { opus } from "../../support/media-samples.js";

function oggPage(granule: bigint): Buffer {
  const h = Buffer.alloc(27);
  h.write("OggS", 0, "ascii");
  h[4] = 0;
  h[5] = 4; // end of stream
  h.writeBigInt64LE(granule, 6);
  return h;
}

describe("Ogg/Opus duration", () => {
  it("is the last page's granule position minus the pre-skip, at 48 kHz", async () => {
    const head = opus(4096);
    expect(opusPreSkip(head)).toBe(312);
    const file = Buffer.concat([head, Buffer.alloc(100_000, 0x33), oggPage(BigInt(48_000 * 3 + 312))]);
    const dir = await mkdtemp(join(tmpdir(), "parley-ogg-"));
    try {
      const path = join(dir, "v.ogg");
      await writeFile(path, file);
      expect(await opusDurationMs(path, file.subarray(0, 65536), file.length)).toBe(3000);
      // A stream with no later page (granule 0) has no known length.
      await writeFile(path, head);
      expect(await opusDurationMs(path, head, head.length)).toBeUndefined();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("knows nothing of files that are not Opus, or pages with a negative granule", () => {
    expect(opusPreSkip(Buffer.from("OggS not opus"))).toBeUndefined();
    expect(lastGranule(oggPage(-1n))).toBeUndefined();
    expect(lastGranule(Buffer.from("no pages here"))).toBeUndefined();
  });
});
