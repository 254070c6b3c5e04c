/**
 * The admin listener (DESIGN §5): loopback by default; `/healthz` and `/readyz` open, everything
 * else behind a bearer token. Metrics for Prometheus at `/metrics`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import type { Logger } from "../log/logger.js";
import { bearerMatches, readJsonBody, sendError, sendJson } from "./http.js";
import { isParleyError, ParleyError } from "../errors/parley-error.js";
import { errorMessage } from "../errors/message.js";
import { closeListener, listenOn, requestUrl } from "../net/http-listener.js";

export interface ReadinessCheck {
  readonly name: string;
  /** `rooms`: bridged rooms refusing Parley (LinkHealth.rooms), shown in the detail without making the check unready. */
  check(): Promise<{ ready: boolean; detail: string; rooms?: readonly { room: string; reason: string; detail: string }[] }>;
}

/**
 * An admin API route: method, a path pattern with `:param`s, and its handler's answer: JSON, or
 * text of its own `contentType` (e.g. PIDF when the request's `Accept` asks for it).
 */
export interface AdminRoute {
  readonly method: "GET" | "POST" | "PUT" | "DELETE";
  readonly path: string;
  handle(params: Readonly<Record<string, string>>, body: unknown, query: URLSearchParams, accept?: string): Promise<AdminAnswer>;
}

export type AdminAnswer = { status: number; body: unknown; contentType?: undefined } | { status: number; body: string; contentType: string };

export interface AdminServerOptions {
  readonly host: string;
  readonly port: number;
  readonly token: string | undefined;
  readonly registry: Registry;
  readonly readiness: readonly ReadinessCheck[];
  readonly routes: readonly AdminRoute[];
  readonly log: Logger;
  /** Pages of their own under a path (the web console, src/console/): they do their own login. */
  readonly pages?: PageHandler;
}

/** Answers the requests it owns (true), leaving the rest to the admin API (false). */
export interface PageHandler {
  handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean>;
}

/** A path segment, percent-decoded; a malformed escape (`%E0%A4%A`) is the client's error, a 400. */
function decodeParam(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ParleyError("PARLEY_INVALID_EVENT", "a path segment has a malformed percent escape");
  }
}

function matchPath(pattern: string, path: string): Record<string, string> | undefined {
  const p = pattern.split("/");
  const a = path.split("/");
  if (p.length !== a.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    const seg = p[i]!;
    if (seg.startsWith(":")) params[seg.slice(1)] = decodeParam(a[i]!);
    else if (seg !== a[i]) return undefined;
  }
  return params;
}

export class AdminServer {
  private server: Server | undefined;
  constructor(private readonly options: AdminServerOptions) {}

  async start(): Promise<AddressInfo> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((e: unknown) => {
        this.options.log.error({ err: errorMessage(e), url: req.url }, "admin request failed");
        if (!res.headersSent) sendError(res, "PARLEY_INTERNAL");
      });
    });
    this.server = server;
    return listenOn(server, this.options.port, this.options.host);
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await closeListener(server);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = requestUrl(req);
    if (!url) return sendError(res, "PARLEY_INVALID_EVENT", "the request target is not a URL");
    if (req.method === "GET" && url.pathname === "/healthz") return sendJson(res, 200, { status: "ok" });
    if (req.method === "GET" && url.pathname === "/readyz") return this.readiness(res);
    if (this.options.pages && (await this.options.pages.handle(req, res, url))) return;
    const token = this.options.token;
    if (token === undefined || !bearerMatches(req, token)) return sendError(res, "PARLEY_UNAUTHORIZED");
    if (req.method === "GET" && url.pathname === "/metrics") {
      const text = await this.options.registry.metrics();
      res.writeHead(200, { "content-type": this.options.registry.contentType });
      res.end(text);
      return;
    }
    for (const route of this.options.routes) {
      if (route.method !== req.method) continue;
      try {
        const params = matchPath(route.path, url.pathname);
        if (!params) continue;
        const body = req.method === "GET" ? undefined : await readJsonBody(req);
        const answer = await route.handle(params, body, url.searchParams, req.headers.accept ?? "");
        if (answer.contentType === undefined) return sendJson(res, answer.status, answer.body);
        res.writeHead(answer.status, { "content-type": answer.contentType, "content-length": Buffer.byteLength(answer.body) });
        res.end(answer.body);
        return;
      } catch (e) {
        if (isParleyError(e)) return sendError(res, e.code, e.message);
        if (e instanceof SyntaxError) return sendError(res, "PARLEY_INVALID_EVENT", `request body: ${e.message}`);
        throw e;
      }
    }
    sendError(res, "PARLEY_NOT_FOUND", `no admin route ${req.method ?? ""} ${url.pathname}`);
  }

  private async readiness(res: ServerResponse): Promise<void> {
    const checks = await Promise.all(
      this.options.readiness.map(async (c) => {
        try {
          return { name: c.name, ...(await c.check()) };
        } catch (e) {
          return { name: c.name, ready: false, detail: errorMessage(e) };
        }
      }),
    );
    const ready = checks.every((c) => c.ready);
    sendJson(res, ready ? 200 : 503, { ready, checks });
  }
}
