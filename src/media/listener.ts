/**
 * Parley's media listener: serves stored files at signed, expiring URLs (signed-url.ts) so that
 * recipients whose network carries media as links (XMPP OOB, oversized email images) can open
 * them. GET and HEAD only; files are streamed from the blob store; every answer forbids sniffing
 * and scripts, and anything not an image, audio or video is served as a download.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Logger } from "../log/logger.js";
import type { BlobStore } from "./blob-store.js";
import { verifyPath } from "./signed-url.js";
import { errorMessage } from "../errors/message.js";
import { closeListener, listenOn, requestUrl } from "../net/http-listener.js";

export interface MediaListenerOptions {
  readonly host: string;
  readonly port: number;
  readonly key: Buffer;
  readonly store: BlobStore;
  readonly log: Logger;
}

const INLINE = /^(image\/(png|jpeg|gif|webp|avif)|audio\/|video\/)/;

export class MediaListener {
  private server: Server | undefined;
  constructor(private readonly options: MediaListenerOptions) {}

  async start(): Promise<{ address: string; port: number }> {
    const server = createServer((req, res) => {
      this.serve(req, res).catch((e: unknown) => {
        this.options.log.warn({ err: errorMessage(e) }, "media request failed");
        if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" }).end("internal error\n");
        else res.destroy();
      });
    });
    this.server = server;
    const a = await listenOn(server, this.options.port, this.options.host);
    return { address: a.address, port: a.port };
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader("x-content-type-options", "nosniff");
    res.setHeader("content-security-policy", "default-src 'none'; sandbox");
    res.setHeader("referrer-policy", "no-referrer");
    if (req.method !== "GET" && req.method !== "HEAD") { res.writeHead(405, { allow: "GET, HEAD" }).end(); return; }
    const url = requestUrl(req);
    if (!url) { res.writeHead(400, { "content-type": "text/plain" }).end("bad request target\n"); return; }
    const media = verifyPath(this.options.key, url.pathname);
    const size = media ? await this.options.store.size(media.ref) : undefined;
    if (!media || size === undefined) { res.writeHead(404, { "content-type": "text/plain" }).end("not found or expired\n"); return; }
    const disposition = INLINE.test(media.contentType) ? "inline" : "attachment";
    res.writeHead(200, {
      "content-type": media.contentType,
      "content-length": String(size),
      "content-disposition": `${disposition}; filename*=UTF-8''${encodeURIComponent(media.filename)}`,
      "cache-control": "private, max-age=3600",
    });
    if (req.method === "HEAD") { res.end(); return; }
    try {
      const body = await this.options.store.open(media.ref);
      body.on("error", () => res.destroy());
      body.pipe(res);
    } catch (e) {
      this.options.log.warn({ err: errorMessage(e) }, "media file vanished while served");
      res.destroy();
    }
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    await closeListener(server);
    this.server = undefined;
  }
}
