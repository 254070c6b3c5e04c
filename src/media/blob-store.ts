/**
 * One blob store for every adapter and every Parley process (DESIGN §5, §8): a directory of
 * content-addressed files (`<dir>/ab/<sha256>`), usually on a volume the processes share.
 * Bytes are streamed to a temporary file while hashed and counted, then renamed into place, so a
 * reader never sees a partial blob and no file is ever held whole in memory. Redis never holds
 * file bytes; messages carry `sha256:<hex>` references.
 */
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rename, rm, stat, utimes } from "node:fs/promises";
import { join, resolve } from "node:path";
import { Readable, Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { ParleyError } from "../errors/parley-error.js";

/** What the store knows of a stored blob. */
export interface StoredBlob {
  /** `sha256:<hex>`, the reference messages carry. */
  readonly ref: string;
  readonly size: number;
  /** The first bytes (up to {@link HEAD_BYTES}), for sniffing the media type and dimensions. */
  readonly head: Buffer;
}

/** How many leading bytes a put keeps for sniffing (image headers, magic numbers). */
export const HEAD_BYTES = 64 * 1024;

export interface BlobStoreOptions {
  readonly dir: string;
  /** The largest single blob accepted. */
  readonly maxBlobBytes: number;
  /** Bounds of the whole store, checked against the sweeper's last count (see {@link BlobStore.setUsage}). */
  readonly maxTotalBytes: number;
  readonly maxBlobs: number;
}

const REF = /^sha256:([0-9a-f]{64})$/;

/** The hex digest of a `sha256:<hex>` reference; throws on anything else (never a path). */
export function refHex(ref: string): string {
  const m = REF.exec(ref);
  if (!m) throw new ParleyError("PARLEY_INVALID_EVENT", "not a blob reference");
  return m[1]!;
}

/** Hashes, counts and caps bytes as they pass, keeping the first {@link HEAD_BYTES}. */
class Meter extends Transform {
  readonly hash = createHash("sha256");
  size = 0;
  private readonly headChunks: Buffer[] = [];
  private headSize = 0;
  constructor(private readonly cap: number) { super(); }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.size += chunk.length;
    if (this.size > this.cap) { done(new ParleyError("PARLEY_TOO_LARGE", `the file is larger than ${this.cap} bytes`, { limit: this.cap })); return; }
    this.hash.update(chunk);
    if (this.headSize < HEAD_BYTES) {
      const take = chunk.subarray(0, HEAD_BYTES - this.headSize);
      this.headChunks.push(take);
      this.headSize += take.length;
    }
    done(null, chunk);
  }

  head(): Buffer { return Buffer.concat(this.headChunks); }
}

export class BlobStore {
  readonly dir: string;
  private usage = { bytes: 0, count: 0 };

  constructor(private readonly options: BlobStoreOptions) {
    this.dir = resolve(options.dir);
  }

  /** Where a blob lives. `hex` is checked to be a digest first, so this never escapes the store. */
  path(ref: string): string {
    const hex = refHex(ref);
    return join(this.dir, hex.slice(0, 2), hex);
  }

  /** The sweeper reports what the directory holds; puts over the store's bounds are refused. */
  setUsage(bytes: number, count: number): void {
    this.usage = { bytes, count };
  }

  /**
   * Stream bytes into the store. Rejects with PARLEY_TOO_LARGE past `maxBytes` (the store's cap
   * or a smaller one given here), and with PARLEY_UNAVAILABLE when the store is full.
   */
  async put(source: Readable | Buffer, maxBytes = this.options.maxBlobBytes): Promise<StoredBlob> {
    if (this.usage.bytes >= this.options.maxTotalBytes || this.usage.count >= this.options.maxBlobs) {
      throw new ParleyError("PARLEY_UNAVAILABLE", "the media store is full; try again later");
    }
    const meter = new Meter(Math.min(maxBytes, this.options.maxBlobBytes));
    await mkdir(this.dir, { recursive: true });
    const tmp = join(this.dir, `.tmp-${process.pid}-${randomBytes(8).toString("hex")}`);
    try {
      await pipeline(Buffer.isBuffer(source) ? Readable.from([source]) : source, meter, createWriteStream(tmp, { flags: "wx" }));
      const ref = `sha256:${meter.hash.digest("hex")}`;
      const target = this.path(ref);
      await mkdir(join(target, ".."), { recursive: true });
      await rename(tmp, target); // atomic; the same content from two processes lands once
      this.usage = { bytes: this.usage.bytes + meter.size, count: this.usage.count + 1 };
      return { ref, size: meter.size, head: meter.head() };
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
  }

  /** The size of a stored blob, or undefined when it is gone (swept or never stored). */
  async size(ref: string): Promise<number | undefined> {
    try {
      return (await stat(this.path(ref))).size;
    } catch {
      return undefined;
    }
  }

  /** Mark a blob as used now, so the sweeper keeps it for another time to live. */
  async touch(ref: string): Promise<void> {
    const now = new Date();
    await utimes(this.path(ref), now, now).catch(() => undefined);
  }

  /** A stream of a blob's bytes; rejects with PARLEY_NOT_FOUND when it is gone. */
  async open(ref: string): Promise<Readable> {
    const path = this.path(ref);
    if ((await this.size(ref)) === undefined) throw new ParleyError("PARLEY_NOT_FOUND", "the file has expired or was never stored");
    return createReadStream(path);
  }

  /** A blob's bytes at once: only for senders whose library wants a buffer (keep files small there). */
  async read(ref: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of await this.open(ref)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }
}
