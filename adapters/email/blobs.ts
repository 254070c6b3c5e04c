/**
 * Attachments and original messages live in a blob store, never in Redis (DESIGN §5, §8).
 * Defined here for now; it belongs in src/ so every adapter shares one store.
 */
import { createHash } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";

export interface BlobStore {
  /** Store bytes; resolves with a reference (content-addressed: the same bytes give the same ref). */
  put(data: Buffer): Promise<string>;
  /** The bytes behind a reference; rejects when unknown. */
  get(ref: string): Promise<Buffer>;
}

const REF = /^sha256:([0-9a-f]{64})$/;

/** A directory of content-addressed files (`<dir>/ab/<sha256>`), safe for several processes. */
export class DirectoryBlobStore implements BlobStore {
  private readonly dir: string;
  constructor(dir: string) { this.dir = resolve(dir); }

  private path(hex: string): string { return join(this.dir, hex.slice(0, 2), hex); }

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
    const m = REF.exec(ref);
    if (!m) throw new Error(`not a blob reference: ${ref}`);
    return readFile(this.path(m[1]!));
  }
}
