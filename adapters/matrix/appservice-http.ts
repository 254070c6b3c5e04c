/**
 * The application-service HTTP listener (Matrix spec, Application Service API): transactions,
 * ping, user and room queries, on node:http. Every request must carry the `hs_token`
 * ("Authorization: Bearer", or the legacy `access_token` query parameter), compared in constant
 * time: none → 401 M_UNAUTHORIZED, wrong → 403 M_FORBIDDEN, before anything is read or done.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Logger } from "../../src/log/logger.js";
import { sameSecret } from "./registration.js";
import type { HttpReply } from "./types.js";

export interface AppserviceHandlers {
  transaction(txnId: string, body: Buffer): Promise<HttpReply>;
  /** Does this user exist in the namespace? 200 after creating it, 404 otherwise. */
  userQuery(userId: string): Promise<HttpReply>;
}

const MAX_BODY_BYTES = 16 * 1024 * 1024;

function send(res: ServerResponse, r: HttpReply): void {
  const text = JSON.stringify(r.body);
  res.writeHead(r.status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function tokenOf(req: IncomingMessage, url: URL): string | undefined {
  const h = req.headers.authorization;
  if (typeof h === "string" && h.startsWith("Bearer ")) return h.slice(7);
  return url.searchParams.get("access_token") ?? undefined;
}

function readBody(req: IncomingMessage): Promise<Buffer | "too-large"> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        resolve("too-large");
        req.destroy();
      } else chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

const notFound: HttpReply = { status: 404, body: { errcode: "M_NOT_FOUND", error: "not found" } };

async function route(req: IncomingMessage, url: URL, h: AppserviceHandlers): Promise<HttpReply> {
  const path = url.pathname.replace(/^\/_matrix\/app\/v1/, "");
  const m = /^\/(transactions|users|rooms|ping|thirdparty)(?:\/(.*))?$/.exec(path);
  const kind = m?.[1];
  const arg = m?.[2] !== undefined ? decodeURIComponent(m[2]) : undefined;
  if (req.method === "PUT" && kind === "transactions" && arg) {
    const body = await readBody(req);
    if (body === "too-large") return { status: 413, body: { errcode: "M_TOO_LARGE", error: "transaction too large" } };
    return h.transaction(arg, body);
  }
  if (req.method === "POST" && kind === "ping") return { status: 200, body: {} };
  if (req.method === "GET" && kind === "users" && arg) return h.userQuery(arg);
  if (req.method === "GET" && (kind === "rooms" || kind === "thirdparty")) return notFound;
  return { status: 404, body: { errcode: "M_UNRECOGNIZED", error: "unrecognised request" } };
}

export function createAppserviceServer(opts: { hsToken: string; log: Logger; handlers: AppserviceHandlers }): Server {
  const { log, handlers } = opts;
  return createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const token = tokenOf(req, url);
    if (token === undefined || !sameSecret(token, opts.hsToken)) {
      const r: HttpReply = token === undefined
        ? { status: 401, body: { errcode: "M_UNAUTHORIZED", error: "missing hs_token" } }
        : { status: 403, body: { errcode: "M_FORBIDDEN", error: "bad hs_token" } };
      log.warn({ method: req.method, path: url.pathname, status: r.status }, "application-service request refused");
      req.resume();
      send(res, r);
      return;
    }
    route(req, url, handlers).then(
      (r) => send(res, r),
      (e: unknown) => {
        log.error({ path: url.pathname, err: e instanceof Error ? e.message : String(e) }, "application-service request failed");
        if (!res.headersSent) send(res, { status: 500, body: { errcode: "M_UNKNOWN", error: "internal error" } });
      },
    );
  });
}
