/**
 * Small real files for media tests: a PNG image, a PDF document and an Ogg/Opus voice note, built
 * in code so their bytes and hashes are known. Sizes are padded to `size` where asked.
 */
import { createHash } from "node:crypto";
import { deflateSync } from "node:zlib";

function crc32(buf: Buffer): number {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** A valid `width`×`height` RGB PNG with a pattern that varies with `seed`. */
export function png(width: number, height: number, seed = 1): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; ihdr[9] = 2; ihdr[10] = 0; ihdr[11] = 0; ihdr[12] = 0;
  const rows: Buffer[] = [];
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 3);
    for (let x = 0; x < width * 3; x++) row[1 + x] = (x * seed + y * 7) & 0xff;
    rows.push(row);
  }
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk("IHDR", ihdr), chunk("IDAT", deflateSync(Buffer.concat(rows))), chunk("IEND", Buffer.alloc(0))]);
}

/** A minimal PDF document, padded with a comment to about `size` bytes. */
export function pdf(text = "Parley", size = 2048): Buffer {
  const head = `%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n% ${text}\n`;
  const pad = "%" + "p".repeat(Math.max(0, size - head.length - 20)) + "\n";
  return Buffer.from(`${head}${pad}trailer << /Root 1 0 R >>\n%%EOF\n`);
}

/** The first page of an Ogg/Opus stream (what a voice note starts with), then padding. */
export function opus(size = 4096): Buffer {
  const opusHead = Buffer.concat([Buffer.from("OpusHead"), Buffer.from([1, 1, 0x38, 0x01, 0x80, 0xbb, 0, 0, 0, 0, 0])]);
  const page = Buffer.concat([
    Buffer.from("OggS"), Buffer.from([0, 2]), Buffer.alloc(8), Buffer.from([1, 0, 0, 0]), Buffer.alloc(4), Buffer.alloc(4),
    Buffer.from([1, opusHead.length]), opusHead,
  ]);
  return Buffer.concat([page, Buffer.alloc(Math.max(0, size - page.length), 0x55)]);
}

export function sha256(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

/** A voice note of `ms` milliseconds: {@link opus} then a last Ogg page whose granule position gives the length (RFC 7845 §4). */
export function opusOfLength(ms: number, size = 4096): Buffer {
  const last = Buffer.alloc(27);
  last.write("OggS", 0, "ascii");
  last[5] = 4; // end of stream
  last.writeBigInt64LE(BigInt(ms * 48 + 312), 6); // 48 kHz samples plus opus()'s pre-skip of 312
  return Buffer.concat([opus(size), last]);
}
