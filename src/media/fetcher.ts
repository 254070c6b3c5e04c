/**
 * The one way Parley downloads anything a sender named by URL (issue 13, DESIGN §5). Only http
 * and https; the host name is resolved once, every address checked (address-guard.ts), and the
 * connection made to that checked address (and checked again once connected), so a DNS answer
 * cannot change between check and use. Redirects are followed by hand and each hop is checked
 * the same way. A connect timeout, a total timeout that keeps running while the body streams, a
 * declared `Content-Length` over the cap refused before any body is read, and a byte cap
 * enforced while streaming. Built on node:http(s): no library follows redirects for us.
 */
import { lookup as dnsLookup } from "node:dns/promises";
import http, { type IncomingMessage } from "node:http";
import https from "node:https";
import type { LookupFunction, Socket } from "node:net";
import { Transform, type Readable, type TransformCallback } from "node:stream";
import { ParleyError } from "../errors/parley-error.js";
import { normaliseHost, refusedRange } from "./address-guard.js";

export interface FetcherOptions {
  readonly connectTimeoutMs: number;
  readonly totalTimeoutMs: number;
  readonly maxRedirects: number;
  /** Host names the admin allows even on private addresses (e.g. the XMPP server's upload host). */
  readonly allowHosts: readonly string[];
  /** Name resolution (tests inject one); defaults to the system resolver. */
  readonly resolve?: (host: string) => Promise<readonly { address: string; family: number }[]>;
}

export interface FetchRequest {
  readonly url: string;
  readonly maxBytes: number;
  /** Sent to the first origin only (e.g. a Matrix bearer token), dropped on a redirect elsewhere. */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface FetchedBody {
  /** The body, capped at `maxBytes`; errors with PARLEY_TOO_LARGE or a timeout while streaming. */
  readonly body: Readable;
  readonly contentType: string | undefined;
  readonly contentLength: number | undefined;
  /** The URL finally fetched, after redirects. */
  readonly url: string;
}

/** Why a fetch was refused, in `details.reason`: tests and metrics read it. */
export type FetchRefusal = "scheme" | "address" | "redirects" | "too-large" | "timeout" | "status";

function refusal(reason: FetchRefusal, message: string, code: "PARLEY_REFUSED" | "PARLEY_TOO_LARGE" | "PARLEY_UNAVAILABLE" = "PARLEY_REFUSED"): ParleyError {
  return new ParleyError(code, message, { reason });
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export class Fetcher {
  private readonly allow: ReadonlySet<string>;
  constructor(private readonly options: FetcherOptions) {
    this.allow = new Set(options.allowHosts.map(normaliseHost));
  }

  async fetch(request: FetchRequest): Promise<FetchedBody> {
    const deadline = Date.now() + this.options.totalTimeoutMs;
    let url = this.parse(request.url);
    let headers = { ...request.headers };
    for (let hop = 0; ; hop++) {
      const res = await this.get(url, headers, deadline);
      const location = res.headers.location;
      if (REDIRECTS.has(res.statusCode ?? 0) && location) {
        res.destroy();
        if (hop >= this.options.maxRedirects) throw refusal("redirects", `more than ${this.options.maxRedirects} redirects`);
        const next = this.parse(new URL(location, url).toString());
        if (next.origin !== url.origin) headers = {}; // credentials never follow a redirect elsewhere
        url = next;
        continue;
      }
      if ((res.statusCode ?? 0) < 200 || (res.statusCode ?? 0) > 299) {
        res.destroy();
        throw refusal("status", `the server answered ${res.statusCode ?? "nothing"}`, (res.statusCode ?? 500) >= 500 ? "PARLEY_UNAVAILABLE" : "PARLEY_REFUSED");
      }
      return this.body(res, url, request.maxBytes, deadline);
    }
  }

  private parse(raw: string): URL {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw refusal("scheme", "not a URL");
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") throw refusal("scheme", `only http and https URLs are fetched, not ${url.protocol}`);
    if (url.username || url.password) throw refusal("scheme", "URLs with credentials are not fetched");
    return url;
  }

  /** Resolve once and check every answer; the one address returned is the one connected to. */
  private async resolveChecked(url: URL): Promise<{ address: string; family: number }> {
    const host = normaliseHost(url.hostname);
    const answers = await (this.options.resolve ?? ((h: string) => dnsLookup(h, { all: true, verbatim: true })))(host)
      .catch(() => { throw refusal("address", `cannot resolve ${host}`); });
    if (answers.length === 0) throw refusal("address", `cannot resolve ${host}`);
    if (!this.allow.has(host)) {
      for (const a of answers) {
        const range = refusedRange(a.address);
        if (range) throw refusal("address", `${host} is a ${range} address, which is never fetched`);
      }
    }
    return answers[0]!;
  }

  private async get(url: URL, headers: Record<string, string>, deadline: number): Promise<IncomingMessage> {
    const pinned = await this.resolveChecked(url);
    const allowed = this.allow.has(normaliseHost(url.hostname));
    const lookup: LookupFunction = (_host, opts, cb) => {
      if (opts.all) (cb as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [pinned]);
      else cb(null, pinned.address, pinned.family);
    };
    const lib = url.protocol === "https:" ? https : http;
    return new Promise<IncomingMessage>((resolvePromise, reject) => {
      const req = lib.request(url, { method: "GET", headers: { ...headers, "user-agent": "Parley media fetcher" }, lookup, agent: false });
      const fail = (e: ParleyError): void => { req.destroy(e); reject(e); };
      const connectTimer = setTimeout(() => fail(refusal("timeout", "the server did not accept a connection in time", "PARLEY_UNAVAILABLE")), Math.min(this.options.connectTimeoutMs, Math.max(0, deadline - Date.now())));
      const totalTimer = setTimeout(() => fail(refusal("timeout", "the download took too long", "PARLEY_UNAVAILABLE")), Math.max(0, deadline - Date.now()));
      req.on("socket", (socket: Socket) => {
        socket.once("connect", () => {
          clearTimeout(connectTimer);
          const range = socket.remoteAddress ? refusedRange(socket.remoteAddress) : "unknown";
          if (range && !allowed) fail(refusal("address", `connected to a ${range} address, which is never fetched`));
        });
      });
      req.on("error", (e) => { clearTimeout(connectTimer); clearTimeout(totalTimer); reject(e instanceof ParleyError ? e : refusal("status", `download failed: ${e.message}`, "PARLEY_UNAVAILABLE")); });
      req.on("response", (res) => {
        clearTimeout(connectTimer);
        clearTimeout(totalTimer); // the body has its own timer to the same deadline
        resolvePromise(res);
      });
      req.end();
    });
  }

  private body(res: IncomingMessage, url: URL, maxBytes: number, deadline: number): FetchedBody {
    const declared = res.headers["content-length"] === undefined ? undefined : Number(res.headers["content-length"]);
    if (declared !== undefined && declared > maxBytes) {
      res.destroy();
      throw refusal("too-large", `the file is ${declared} bytes, more than the ${maxBytes} allowed`, "PARLEY_TOO_LARGE");
    }
    let seen = 0;
    const capped = new Transform({
      transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) {
        seen += chunk.length;
        if (seen > maxBytes) done(refusal("too-large", `the file is more than the ${maxBytes} bytes allowed`, "PARLEY_TOO_LARGE"));
        else done(null, chunk);
      },
    });
    const timer = setTimeout(() => capped.destroy(refusal("timeout", "the download took too long", "PARLEY_UNAVAILABLE")), Math.max(0, deadline - Date.now()));
    const end = (): void => { clearTimeout(timer); res.destroy(); };
    capped.once("close", end);
    res.once("error", (e) => capped.destroy(e));
    res.pipe(capped);
    return { body: capped, contentType: res.headers["content-type"], contentLength: declared, url: url.toString() };
  }
}
