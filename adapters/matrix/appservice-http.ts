/**
 * The application-service HTTP listener (Matrix spec, Application Service API): transactions,
 * ping, user and room queries, on node:http. Every request must carry the `hs_token`
 * ("Authorization: Bearer", or the legacy `access_token` query parameter), compared in constant
 * time: none → 401 M_UNAUTHORIZED, wrong → 403 M_FORBIDDEN, before anything is read or done.
 * When both are present they must be the same token (issue 11, class 6).
 *
 * Slow or huge bodies (issue 11, class 5): a declared `Content-Length` over the limit is answered
 * 413 before a byte of the body is read; headers must arrive within `headersTimeoutMs` and the
 * whole request within `requestTimeoutMs` (node answers 408 and closes); one source may hold at
 * most `maxConnectionsPerSource` connections, further ones are closed at once.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Logger } from "../../src/log/logger.js";
import { sameSecret } from "./registration.js";
import type { HttpReply } from "./types.js";
import { errorMessage } from "../../src/errors/message.js";
import { requestUrl } from "../../src/net/http-listener.js";

export interface AppserviceHandlers {
  transaction(txnId: string, body: Buffer): Promise<HttpReply>;
  /** Does this user exist in the namespace? 200 after creating it, 404 otherwise. */
  userQuery(userId: string): Promise<HttpReply>;
  /** Does this room alias exist in the namespace? 200 after creating its room, 404 otherwise (none: always 404). */
  roomQuery?(alias: string): Promise<HttpReply>;
}

function send(res: ServerResponse, r: HttpReply): void {
  const text = JSON.stringify(r.body);
  res.writeHead(r.status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/** The token the request carries; "conflict" when header and query name different tokens. */
function tokenOf(req: IncomingMessage, url: URL): { token?: string; conflict?: true } {
  const h = req.headers.authorization;
  const bearer = typeof h === "string" && h.startsWith("Bearer ") ? h.slice(7) : undefined;
  const query = url.searchParams.getAll("access_token");
  if (query.length > 1 || (bearer !== undefined && query.length === 1 && !sameSecret(bearer, query[0]!))) return { conflict: true };
  const token = bearer ?? query[0];
  return token === undefined ? {} : { token };
}

export interface ListenerLimits {
  readonly maxBodyBytes: number;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly maxConnectionsPerSource: number;
}

export const DEFAULT_LISTENER_LIMITS: ListenerLimits = {
  maxBodyBytes: 16 * 1024 * 1024, headersTimeoutMs: 5_000, requestTimeoutMs: 10_000, maxConnectionsPerSource: 64,
};

/**
 * The body, in one buffer: with a declared length it is allocated once and filled (no chunk list
 * and no second copy: issue 11, class 7 — what one transaction holds is its size, once).
 */
function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | "too-large"> {
  const declared = req.headers["content-length"] === undefined ? undefined : Number(req.headers["content-length"]);
  if (declared !== undefined && declared > maxBytes) return Promise.resolve("too-large"); // before reading a byte
  return new Promise((resolve, reject) => {
    const into = declared !== undefined && Number.isSafeInteger(declared) ? Buffer.allocUnsafe(declared) : undefined;
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      if (size + c.length > (into?.length ?? maxBytes)) {
        resolve("too-large");
        req.destroy();
        return;
      }
      if (into) c.copy(into, size);
      else chunks.push(c);
      size += c.length;
    });
    req.on("end", () => resolve(into ? into.subarray(0, size) : Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

const notFound: HttpReply = { status: 404, body: { errcode: "M_NOT_FOUND", error: "not found" } };

async function route(req: IncomingMessage, url: URL, h: AppserviceHandlers, limits: ListenerLimits): Promise<HttpReply> {
  const path = url.pathname.replace(/^\/_matrix\/app\/v1/, "");
  const m = /^\/(transactions|users|rooms|ping|thirdparty)(?:\/(.*))?$/.exec(path);
  const kind = m?.[1];
  let arg: string | undefined;
  try {
    arg = m?.[2] !== undefined ? decodeURIComponent(m[2]) : undefined;
  } catch {
    return { status: 400, body: { errcode: "M_UNRECOGNIZED", error: "a malformed percent escape in the path" } };
  }
  if (req.method === "PUT" && kind === "transactions" && arg) {
    const body = await readBody(req, limits.maxBodyBytes);
    if (body === "too-large") return { status: 413, body: { errcode: "M_TOO_LARGE", error: `transaction over ${limits.maxBodyBytes} bytes` } };
    return h.transaction(arg, body);
  }
  if (req.method === "POST" && kind === "ping") return { status: 200, body: {} };
  if (req.method === "GET" && kind === "users" && arg) return h.userQuery(arg);
  if (req.method === "GET" && kind === "rooms" && arg && h.roomQuery) return h.roomQuery(arg);
  if (req.method === "GET" && (kind === "rooms" || kind === "thirdparty")) return notFound;
  return { status: 404, body: { errcode: "M_UNRECOGNIZED", error: "unrecognised request" } };
}

export function createAppserviceServer(opts: { hsToken: string; log: Logger; handlers: AppserviceHandlers; limits?: Partial<ListenerLimits> }): Server {
  const { log, handlers } = opts;
  const limits: ListenerLimits = { ...DEFAULT_LISTENER_LIMITS, ...opts.limits };
  const server = createServer({
    headersTimeout: limits.headersTimeoutMs, requestTimeout: limits.requestTimeoutMs,
    // node checks both timeouts only this often (default 30 s, longer than the timeouts themselves)
    connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs, limits.requestTimeoutMs),
  }, (req, res) => {
    const url = requestUrl(req);
    if (!url) {
      refuse(req, res, { status: 400, body: { errcode: "M_UNRECOGNIZED", error: "the request target is not a URL" } });
      return;
    }
    const { token, conflict } = tokenOf(req, url);
    if (conflict || token === undefined || !sameSecret(token, opts.hsToken)) {
      const r: HttpReply = conflict
        ? { status: 403, body: { errcode: "M_FORBIDDEN", error: "hs_token in the header and the query differ" } }
        : token === undefined
          ? { status: 401, body: { errcode: "M_UNAUTHORIZED", error: "missing hs_token" } }
          : { status: 403, body: { errcode: "M_FORBIDDEN", error: "bad hs_token" } };
      log.warn({ method: req.method, path: url.pathname, status: r.status }, "application-service request refused");
      refuse(req, res, r);
      return;
    }
    route(req, url, handlers, limits).then(
      (r) => (r.status === 413 ? refuse(req, res, r) : send(res, r)),
      (e: unknown) => {
        log.error({ path: url.pathname, err: errorMessage(e) }, "application-service request failed");
        if (!res.headersSent) send(res, { status: 500, body: { errcode: "M_UNKNOWN", error: "internal error" } });
      },
    );
  });
  limitPerSource(server, limits.maxConnectionsPerSource, log);
  return server;
}

/** Answer and close the connection without reading an unread body (it may be huge or endless). */
function refuse(req: IncomingMessage, res: ServerResponse, r: HttpReply): void {
  res.setHeader("connection", "close");
  send(res, r);
  res.on("finish", () => req.socket.destroySoon());
}

/** Close connections over `max` from one remote address as soon as they open. */
function limitPerSource(server: Server, max: number, log: Logger): void {
  const open = new Map<string, number>();
  server.on("connection", (socket) => {
    const who = socket.remoteAddress ?? "?";
    const n = (open.get(who) ?? 0) + 1;
    if (n > max) {
      log.warn({ source: who, max }, "application-service connection refused: too many from one source");
      socket.destroy();
      return;
    }
    open.set(who, n);
    socket.once("close", () => {
      const left = (open.get(who) ?? 1) - 1;
      if (left <= 0) open.delete(who);
      else open.set(who, left);
    });
  });
}
