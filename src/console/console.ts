/**
 * The web console (issue 17), served by the admin listener under `/console/`: server-rendered
 * pages with plain forms, no script, no external resource. Login takes the admin token once and
 * hands out a signed session cookie (session.ts); every change is a POST carrying the session's
 * CSRF token, answered with a redirect (or the page with the result, for mappings).
 *
 * Headers on every answer: a Content-Security-Policy that allows nothing but this origin's
 * stylesheet and forms (no script at all), no framing, no referrer, no caching.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { isParleyError } from "../errors/parley-error.js";
import { errorMessage } from "../errors/message.js";
import type { Logger } from "../log/logger.js";
import { html, layout, type Html, type PageContext } from "./html.js";
import { mappingsPage, type MappingsAction } from "./mappings-page.js";
import { dlqItemPage, dlqPage, overviewPage, presencePage, tracePage } from "./pages.js";
import { QueueSampler } from "./samples.js";
import { clearedCookie, ConsoleSessions, cookieValue, LoginThrottle, type Session } from "./session.js";
import type { ConsoleSources } from "./sources.js";
import { STYLE } from "./style.js";
import { traceSection } from "./timeline.js";

const SECURITY_HEADERS = {
  "content-security-policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cache-control": "no-store",
};

const MAX_FORM_BYTES = 512 * 1024;

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_FORM_BYTES) throw new RangeError(`form larger than ${MAX_FORM_BYTES} bytes`);
    chunks.push(buf);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, "content-type": "text/html; charset=utf-8", "content-length": String(Buffer.byteLength(body)), ...headers });
  res.end(body);
}

function redirect(res: ServerResponse, location: string, headers: Record<string, string> = {}): void {
  res.writeHead(303, { ...SECURITY_HEADERS, location, "content-length": "0", ...headers });
  res.end();
}

/** A same-console path to return to after login (never another origin). */
function safeNext(next: string | null): string {
  return next && next.startsWith("/console/") && !/[\\\r\n]/.test(next) ? next : "/console/";
}

function loginPage(next: string, error?: string): string {
  return layout("Log in", undefined, html`${error ? html`<p class="bad" role="alert">${error}</p>` : ""}
<form method="post" action="/console/login" class="login"><input type="hidden" name="next" value="${next}">
<label>Admin token <input type="password" name="token" autocomplete="current-password" required autofocus></label>
<button type="submit">Log in</button></form><p class="muted">The token of the admin API (<code>admin.token</code> or <code>admin.tokenFile</code>).</p>`);
}

export interface ConsoleOptions {
  /** How often the overview's queue charts take a sample (default 60 s). */
  readonly sampleMs?: number;
  readonly log: Logger;
}

export class WebConsole {
  private readonly sessions: ConsoleSessions;
  private readonly throttle = new LoginThrottle();
  private readonly sampler: QueueSampler;

  constructor(private readonly s: ConsoleSources, private readonly o: ConsoleOptions) {
    this.sessions = new ConsoleSessions(s.token);
    this.sampler = new QueueSampler(s.registry, () => s.delivery.counts(), o.sampleMs);
  }

  start(): void { this.sampler.start(); }
  stop(): void { this.sampler.stop(); }

  /** Answer a request under `/console`; false when the path is not the console's. */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    const path = url.pathname;
    if (path !== "/console" && !path.startsWith("/console/")) return false;
    try {
      await this.route(req, res, url);
    } catch (e) {
      const message = isParleyError(e) ? e.message : e instanceof RangeError ? e.message : "internal error (see the log)";
      if (!isParleyError(e) && !(e instanceof RangeError)) this.o.log.error({ err: errorMessage(e), path }, "console request failed");
      if (!res.headersSent) send(res, isParleyError(e) && e.info.retryable ? 503 : 500, layout("Error", undefined, html`<p class="bad" role="alert">${message}</p><p><a href="/console/">Back</a></p>`));
    }
    return true;
  }

  private async route(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const path = url.pathname;
    const method = req.method ?? "GET";
    if (path === "/console") return redirect(res, "/console/");
    if (path === "/console/style.css" && method === "GET") return send(res, 200, STYLE, { "content-type": "text/css; charset=utf-8", "cache-control": "max-age=300" });
    if (path === "/console/login") return method === "POST" ? this.login(req, res) : send(res, 200, loginPage(safeNext(url.searchParams.get("next"))));
    const session = this.sessions.verify(cookieValue(req.headers.cookie));
    if (!session) {
      if (method === "GET") return redirect(res, `/console/login?next=${encodeURIComponent(path + url.search)}`);
      return send(res, 403, layout("Not logged in", undefined, html`<p class="bad">Log in first: <a href="/console/login">log in</a>.</p>`));
    }
    const ctx: PageContext = { csrf: this.sessions.csrfFor(session), path };
    if (method === "POST") return this.post(req, res, path, session, ctx);
    if (method !== "GET") return send(res, 405, layout("Not allowed", ctx, html`<p>${method} is not used here.</p>`));
    const page = await this.page(path, url.searchParams, ctx);
    if (!page) return send(res, 404, layout("Not found", ctx, html`<p>No console page ${path}.</p>`));
    send(res, 200, layout(page.title, ctx, page.body));
  }

  private async login(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const form = await readForm(req);
    const next = safeNext(form.get("next"));
    if (this.throttle.blocked()) return send(res, 429, loginPage(next, "Too many failed logins; wait a minute."));
    if (!this.sessions.tokenMatches(form.get("token") ?? "")) {
      this.throttle.failed();
      this.o.log.warn({ audit: "console-login", ok: false, remote: req.socket.remoteAddress }, "console login refused");
      return send(res, 401, loginPage(next, "That is not the admin token."));
    }
    const { value } = this.sessions.issue();
    this.o.log.info({ audit: "console-login", ok: true, remote: req.socket.remoteAddress }, "console login");
    redirect(res, next, { "set-cookie": this.sessions.cookie(value) });
  }

  private async page(path: string, q: URLSearchParams, ctx: PageContext): Promise<{ title: string; body: Html } | undefined> {
    const s = this.s;
    switch (path) {
      case "/console/": {
        const [links, counts] = await Promise.all([s.links(), s.delivery.counts()]);
        return { title: "Overview", body: overviewPage({ links, counts, series: (n) => this.sampler.series(n), mappings: s.mappings.get(), version: s.mappings.currentVersion }) };
      }
      case "/console/trace": {
        const query = (q.get("q") ?? "").trim();
        const last = Math.min(100, Math.max(1, Number(q.get("last") ?? 10) || 10));
        return { title: "Trace", body: tracePage(query, last, query ? await s.traces.lookup(query, last) : undefined) };
      }
      case "/console/dlq":
        return { title: "Dead letters", body: dlqPage(ctx, q, await s.delivery.listFailed(200)) };
      case "/console/dlq/item": {
        const id = q.get("id") ?? "";
        const job = (await s.delivery.listFailed(1000)).find((j) => j.id === id);
        if (!job) return { title: "Dead letter", body: html`<p class="bad" role="alert">No dead letter ${id} (retried or dropped?). <a href="/console/dlq">All dead letters</a></p>` };
        const mid = /^[mrs]\.([0-9a-f-]{36})\./.exec(job.key)?.[1];
        const trace = mid ? await s.traces.trace(mid) : undefined;
        return { title: "Dead letter", body: dlqItemPage(ctx, job, trace ? traceSection(trace) : undefined) };
      }
      case "/console/presence": {
        const address = (q.get("address") ?? "").trim();
        if (!address) return { title: "Presence and subscriptions", body: presencePage("", undefined) };
        try {
          const [show, subs] = await Promise.all([s.presence.showPresence(address), s.presence.listSubscriptions(address)]);
          return { title: "Presence and subscriptions", body: presencePage(address, { show, subs }) };
        } catch (e) {
          if (isParleyError(e) && !e.info.retryable) return { title: "Presence and subscriptions", body: presencePage(address, { error: e.message }) };
          throw e;
        }
      }
      case "/console/mappings":
        return { title: "Mappings", body: mappingsPage(ctx, q, await s.mappings.describe()) };
      default:
        return undefined;
    }
  }

  private async post(req: IncomingMessage, res: ServerResponse, path: string, session: Session, ctx: PageContext): Promise<void> {
    const form = await readForm(req);
    if (!this.sessions.csrfMatches(session, form.get("_csrf"))) {
      return send(res, 403, layout("Refused", ctx, html`<p class="bad" role="alert">The form's CSRF token is missing or wrong; nothing changed. Reload the page and try again.</p>`));
    }
    const audit = (action: string, detail: Record<string, unknown>) => this.o.log.info({ audit: "console", action, ...detail }, "console action");
    switch (path) {
      case "/console/logout":
        return redirect(res, "/console/login", { "set-cookie": clearedCookie });
      case "/console/dlq/retry":
      case "/console/dlq/drop": {
        const id = form.get("id") ?? "";
        const retry = path.endsWith("retry");
        const ok = retry ? await this.s.delivery.retryFailed(id) : await this.s.delivery.dropFailed(id);
        audit(retry ? "dlq-retry" : "dlq-drop", { id, ok });
        const word = ok ? `done=${encodeURIComponent(`${retry ? "Retried" : "Dropped"} ${id}`)}` : `error=${encodeURIComponent(`No dead letter ${id}`)}`;
        return redirect(res, `/console/dlq?${word}`);
      }
      case "/console/mappings": {
        const text = form.get("text") ?? "";
        const action: MappingsAction = form.get("action") === "apply" ? "apply" : "validate";
        const result = action === "apply" ? await this.s.mappings.apply(text, "console") : this.s.mappings.validate(text);
        if (action === "apply") audit("mappings-apply", { ok: result.ok, version: result.ok ? result.version : undefined });
        const body = mappingsPage(ctx, new URLSearchParams(), await this.s.mappings.describe(), { action, text, result });
        return send(res, result.ok ? 200 : 422, layout("Mappings", ctx, body));
      }
      case "/console/mappings/rollback": {
        const to = Number(form.get("version"));
        const result = await this.s.mappings.rollback(to);
        audit("mappings-rollback", { to, ok: result.ok });
        const word = result.ok ? `done=${encodeURIComponent(`Rolled back to version ${to} (now version ${result.version})`)}` : `error=${encodeURIComponent(result.problems.join("; "))}`;
        return redirect(res, `/console/mappings?${word}`);
      }
      default:
        return send(res, 404, layout("Not found", ctx, html`<p>No console action ${path}.</p>`));
    }
  }
}
