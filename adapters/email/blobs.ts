/**
 * Where the email adapter keeps original messages and relayed signed or encrypted parts (DESIGN
 * §5, §8): the gateway's one blob store (`ctx.media`, src/media), shared by every adapter and
 * process. Attachments go through `ctx.media.store` itself (media.ts), with limits and type checks.
 * `DirectoryBlobStore` on `adapters.email.blobDir` is only the fallback for a context without
 * media (some tests); it uses the same layout, `<dir>/ab/<sha256>`.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { access, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Readable } from "node:stream";
import type { MediaPort } from "../../src/adapter/media.js";

export interface BlobStore {
  /** Store bytes; resolves with a reference (content-addressed: the same bytes give the same ref). */
  put(data: Buffer): Promise<string>;
  /** The bytes behind a reference; rejects when unknown. */
  get(ref: string): Promise<Buffer>;
  /** The bytes behind a reference, streamed. */
  open(ref: string): Promise<Readable>;
}

/** The gateway's shared blob store, through `ctx.media`. */
export class MediaBlobStore implements BlobStore {
  constructor(private readonly media: MediaPort) {}

  async put(data: Buffer): Promise<string> {
    return (await this.media.keep(data)).blobRef;
  }

  async get(ref: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const c of await this.media.open({ blobRef: ref })) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  open(ref: string): Promise<Readable> {
    return this.media.open({ blobRef: ref });
  }
}

const REF = /^sha256:([0-9a-f]{64})$/;

/** A directory of content-addressed files (`<dir>/ab/<sha256>`), safe for several processes. */
export class DirectoryBlobStore implements BlobStore {
  private readonly dir: string;
  constructor(dir: string) { this.dir = resolve(dir); }

  private path(hex: string): string { return join(this.dir, hex.slice(0, 2), hex); }

  private pathOf(ref: string): string {
    const m = REF.exec(ref);
    if (!m) throw new Error(`not a blob reference: ${ref}`);
    return this.path(m[1]!);
  }

  async put(data: Buffer): Promise<string> {
    const hex = createHash("sha256").update(data).digest("hex");
    const target = this.path(hex);
    await mkdir(join(this.dir, hex.slice(0, 2)), { recursive: true });
    const tmp = `${target}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(tmp, data);
    await rename(tmp, target); // atomic: readers never see a partial blob
    return `sha256:${hex}`;
  }

  async get(ref: string): Promise<Buffer> {
    return readFile(this.pathOf(ref));
  }

  async open(ref: string): Promise<Readable> {
    const path = this.pathOf(ref);
    await access(path); // rejects now when unknown, not later on the stream
    return createReadStream(path);
  }
}
