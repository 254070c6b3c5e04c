/**
 * The media service behind `ctx.media` (src/adapter/media.ts): blob store, fetcher, sniffing,
 * limits, sweeper and media listener, built from the `media` config section. One per process.
 */
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { Readable } from "node:stream";
import { Counter, type Registry } from "prom-client";
import type { AttachmentPart, DeclaredMedia, MediaPort, MediaScope } from "../adapter/media.js";
import type { Part } from "../model/message.js";
import type { Logger } from "../log/logger.js";
import { isParleyError, type ParleyError } from "../errors/parley-error.js";
import { BlobStore } from "./blob-store.js";
import type { MediaConfig } from "./config.js";
import { Fetcher, type FetcherOptions } from "./fetcher.js";
import { checkAttachment, checkParts, limitsFor } from "./limits.js";
import { MediaListener } from "./listener.js";
import { signedPath } from "./signed-url.js";
import { sniff } from "./sniff.js";
import { opusDurationMs } from "./duration.js";
import { Sweeper } from "./sweeper.js";

export interface MediaServiceOptions {
  readonly config: MediaConfig;
  readonly log: Logger;
  readonly registry?: Registry;
  /** Tests inject name resolution for the fetcher. */
  readonly resolve?: FetcherOptions["resolve"];
}

/** A filename safe to carry anywhere: no path, no control characters, at most 255 characters. */
export function safeFilename(name: string | undefined, contentType: string): string {
  const base = (name ?? "").split(/[\\/]/).pop()!.replace(/[\p{Cc}\p{Cf}"]/gu, "").trim().slice(0, 255);
  if (base !== "" && base !== "." && base !== "..") return base;
  return `file.${contentType.split("/")[1]?.replace(/[^a-z0-9]/g, "") || "bin"}`;
}

export class MediaService implements MediaPort {
  readonly blobs: BlobStore;
  private readonly fetcher: Fetcher;
  private readonly sweeper: Sweeper;
  private listener: MediaListener | undefined;
  private key: Buffer = randomBytes(32);
  private baseUrl: string | undefined;
  private readonly refused: Counter | undefined;
  private readonly stored: { files: Counter; bytes: Counter } | undefined;

  constructor(private readonly options: MediaServiceOptions) {
    const c = options.config;
    this.blobs = new BlobStore({ dir: c.dir, maxBlobBytes: c.maxBlobBytes, maxTotalBytes: c.maxTotalBytes, maxBlobs: c.maxBlobs });
    this.fetcher = new Fetcher({ ...c.fetch, ...(options.resolve ? { resolve: options.resolve } : {}) });
    this.sweeper = new Sweeper(this.blobs, c.ttlHours * 3600_000, c.sweepIntervalMs, options.log);
    this.refused = options.registry
      ? new Counter({ name: "parley_media_refused_total", help: "Files refused: by the fetcher (address, scheme, redirects, timeout) or a limit (too-large, unsupported)", labelNames: ["reason"], registers: [options.registry] })
      : undefined;
    this.stored = options.registry
      ? {
          files: new Counter({ name: "parley_media_files_total", help: "Files taken into the blob store, by the network that sent them", labelNames: ["network"], registers: [options.registry] }),
          bytes: new Counter({ name: "parley_media_bytes_total", help: "Bytes of files taken into the blob store, by the network that sent them", labelNames: ["network"], registers: [options.registry] }),
        }
      : undefined;
  }

  /**
   * Sweep once, start the periodic sweeper and, when enabled, the media listener. With `listen`
   * false (the workers role) no port is bound: links are signed with the shared secret and point
   * at `publicUrl`, served by the ingress processes; without a `publicUrl` there are no links.
   */
  async start(options: { listen: boolean } = { listen: true }): Promise<void> {
    const c = this.options.config;
    await this.sweeper.start();
    if (!c.listener.enabled) return;
    if (c.listener.secret) this.key = Buffer.from(c.listener.secret);
    else if (c.listener.secretFile) this.key = Buffer.from((await readFile(c.listener.secretFile, "utf8")).trim());
    else this.options.log.warn("media.listener.secret is not set: media links work only from the process that made them");
    if (!options.listen) {
      if (c.listener.publicUrl) this.baseUrl = c.listener.publicUrl.replace(/\/+$/, "");
      return;
    }
    this.listener = new MediaListener({ host: c.listener.host, port: c.listener.port, key: this.key, store: this.blobs, log: this.options.log });
    const a = await this.listener.start();
    this.baseUrl = (c.listener.publicUrl ?? `http://${a.address.includes(":") ? `[${a.address}]` : a.address}:${a.port}`).replace(/\/+$/, "");
    this.options.log.info({ host: a.address, port: a.port, publicUrl: this.baseUrl }, "media listener listening");
  }

  async stop(): Promise<void> {
    this.sweeper.stop();
    await this.listener?.stop();
  }

  limits(scope: MediaScope) {
    return limitsFor(this.options.config, scope);
  }

  check(parts: readonly Part[], scope: MediaScope): ParleyError | undefined {
    const e = checkParts(this.limits(scope), parts);
    if (e) this.refused?.inc({ reason: e.code === "PARLEY_TOO_LARGE" ? "too-large" : "unsupported" });
    return e;
  }

  async store(source: Readable | Buffer, declared: DeclaredMedia, scope: MediaScope): Promise<AttachmentPart> {
    const limits = this.limits(scope);
    const blob = await this.counted(this.blobs.put(source, limits.maxBytes));
    const sniffed = await sniff(blob.head, declared.contentType);
    const durationMs = declared.durationMs ?? (sniffed.contentType === "audio/ogg" || sniffed.contentType === "audio/opus"
      ? await opusDurationMs(this.blobs.path(blob.ref), blob.head, blob.size).catch(() => undefined) : undefined);
    const part: AttachmentPart = {
      role: "attachment",
      contentType: sniffed.contentType,
      filename: safeFilename(declared.filename, sniffed.contentType),
      size: blob.size,
      blobRef: blob.ref,
      ...(sniffed.width && sniffed.height ? { width: sniffed.width, height: sniffed.height } : declared.width && declared.height ? { width: declared.width, height: declared.height } : {}),
      ...(durationMs !== undefined ? { durationMs: Math.round(durationMs) } : {}),
    };
    const broken = checkAttachment(limits, part);
    if (broken) {
      this.refused?.inc({ reason: "unsupported" });
      throw broken;
    }
    this.stored?.files.inc({ network: scope.network });
    this.stored?.bytes.inc({ network: scope.network }, part.size);
    return part;
  }

  async fetch(url: string, declared: DeclaredMedia, scope: MediaScope, headers?: Readonly<Record<string, string>>): Promise<AttachmentPart> {
    const got = await this.counted(this.fetcher.fetch({ url, maxBytes: this.limits(scope).maxBytes, ...(headers ? { headers } : {}) }));
    const fromUrl = lastSegment(got.url);
    return this.store(got.body, { ...declared, filename: declared.filename ?? fromUrl, contentType: declared.contentType ?? got.contentType }, scope);
  }

  async keep(source: Readable | Buffer): Promise<{ blobRef: string; size: number }> {
    const blob = await this.counted(this.blobs.put(source, this.options.config.maxBlobBytes));
    return { blobRef: blob.ref, size: blob.size };
  }

  open(part: { readonly blobRef: string }): Promise<Readable> {
    return this.blobs.open(part.blobRef);
  }

  publicUrl(part: AttachmentPart): string | undefined {
    if (!this.baseUrl) return undefined;
    const expires = Date.now() + this.options.config.listener.urlTtlHours * 3600_000;
    void this.blobs.touch(part.blobRef); // a file linked now lives at least as long as its link
    return this.baseUrl + signedPath(this.key, { ref: part.blobRef, contentType: part.contentType, filename: part.filename ?? "file", expires });
  }

  private async counted<T>(p: Promise<T>): Promise<T> {
    try {
      return await p;
    } catch (e) {
      const reason = isParleyError(e) ? e.details.reason : undefined;
      this.refused?.inc({ reason: typeof reason === "string" ? reason : isParleyError(e) ? e.code : "error" });
      throw e;
    }
  }
}

/** The file name a URL ends with, percent-decoded when the escapes are well formed (else as written). */
function lastSegment(url: string): string {
  const segment = new URL(url).pathname.split("/").pop() ?? "";
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
