/**
 * RFC 8058 one-click unsubscribe for a linked room's list (issue 12 §5). Each list mail carries its
 * recipient's own link `<publicUrl>/list/unsubscribe?<token>`, where the token names the list and
 * the mailbox and carries an HMAC-SHA256 over both with the admin's key: nothing is stored per
 * link, any process with the key can answer it, and a link cannot be made for another mailbox.
 *
 * The endpoint: POST with `List-Unsubscribe=One-Click` (urlencoded or multipart, RFC 8058 §3.2)
 * unsubscribes; GET only shows a page with a button that makes that POST (link scanners and
 * prefetchers GET, and must never unsubscribe anyone); a bad token is 403. No answer depends on
 * whether the mailbox is a member: the store is read only by the POST, and its answer is the same
 * either way.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Logger } from "../../../src/log/logger.js";
import { errorMessage } from "../../../src/errors/message.js";
import { closeListener, listenOn, requestUrl } from "../../../src/net/http-listener.js";
import type { EmailConfig } from "../config.js";
import { commandAddress } from "./address.js";
import { memberKey, type ListMembers } from "./members.js";

export const ONE_CLICK_PATH = "/list/unsubscribe";
/** The largest POST body read (RFC 8058's is one short field). */
const MAX_BODY_BYTES = 8 * 1024;
const PURPOSE = "parley list-unsubscribe v1";

export interface OneClick {
  /** Base URL without a trailing slash. */
  readonly base: string;
  readonly key: Buffer;
}

/** The key and base URL from the config, or undefined when one-click is off. */
export async function loadOneClick(config: EmailConfig): Promise<OneClick | undefined> {
  const o = config.oneClick;
  if (!o) return undefined;
  const key = o.secret ?? (await readFile(o.secretFile!, "utf8")).trim();
  if (key.length < 16) throw new Error("adapters.email.oneClick: the key must have at least 16 characters");
  return { base: o.publicUrl.replace(/\/+$/, ""), key: Buffer.from(key) };
}

function mac(key: Buffer, list: string, mailbox: string): Buffer {
  return createHmac("sha256", key).update(`${PURPOSE}\n${list}\n${mailbox}`).digest();
}

/** `<list and mailbox, base64url>.<HMAC, base64url>`; list and mailbox as the store keys them. */
export function unsubscribeToken(key: Buffer, list: string, mailbox: string): string {
  const l = list.toLowerCase();
  const m = memberKey(mailbox);
  return `${Buffer.from(`${l}\n${m}`).toString("base64url")}.${mac(key, l, m).toString("base64url")}`;
}

/** The list and mailbox a token names, or undefined when it is malformed or not made with `key` (constant-time check). */
export function verifyToken(key: Buffer, token: string): { list: string; mailbox: string } | undefined {
  const t = /^([A-Za-z0-9_-]{1,1400})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!t) return undefined;
  const [list, mailbox, ...rest] = Buffer.from(t[1]!, "base64url").toString("utf8").split("\n");
  if (!list || !mailbox || rest.length > 0) return undefined;
  const want = mac(key, list, mailbox);
  const got = Buffer.from(t[2]!, "base64url");
  if (got.length !== want.length || !timingSafeEqual(got, want)) return undefined;
  return { list, mailbox };
}

/** The RFC 2369 / RFC 8058 fields of one recipient's copy. */
export function oneClickHeaders(oneClick: OneClick, list: string, mailbox: string): Record<string, string> {
  return {
    "List-Unsubscribe": `<${oneClick.base}${ONE_CLICK_PATH}?${unsubscribeToken(oneClick.key, list, mailbox)}>, <mailto:${commandAddress(list, "unsubscribe")}>`,
    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
  };
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><meta name="robots" content="noindex"><title>${esc(title)}</title></head><body><h1>${esc(title)}</h1>${body}</body></html>\n`;
}

/** The one-click endpoint: one route on a listener of its own (put a TLS proxy in front). */
export class OneClickListener {
  private server: Server | undefined;

  constructor(private readonly o: { readonly config: NonNullable<EmailConfig["oneClick"]>; readonly oneClick: OneClick; readonly members: ListMembers; readonly log: Logger }) {}

  async start(): Promise<number> {
    const server = createServer({ headersTimeout: 10_000, requestTimeout: 15_000 }, (req, res) => {
      this.serve(req, res).catch((e: unknown) => {
        this.o.log.warn({ err: errorMessage(e) }, "one-click unsubscribe failed");
        if (!res.headersSent) this.answer(res, 503, page("Try again later", "<p>The unsubscribe could not be done just now; please try again later.</p>"));
        else res.destroy();
      });
    });
    server.maxHeadersCount = 50;
    this.server = server;
    return (await listenOn(server, this.o.config.listen.port, this.o.config.listen.host)).port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await closeListener(server);
  }

  private answer(res: ServerResponse, status: number, html: string, extra: Record<string, string> = {}): void {
    res.writeHead(status, {
      "content-type": "text/html; charset=utf-8",
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
      "content-security-policy": "default-src 'none'; form-action 'self'; frame-ancestors 'none'",
      ...extra,
    }).end(html);
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = requestUrl(req);
    if (!url) return this.answer(res, 400, page("Bad request", ""));
    if (!url.pathname.endsWith(ONE_CLICK_PATH)) return this.answer(res, 404, page("Not found", ""));
    if (req.method !== "GET" && req.method !== "HEAD" && req.method !== "POST") return this.answer(res, 405, page("Method not allowed", ""), { allow: "GET, HEAD, POST" });
    const target = verifyToken(this.o.oneClick.key, url.search.slice(1));
    if (!target) {
      req.resume();
      return this.answer(res, 403, page("This link is not valid", "<p>The unsubscribe link is incomplete or was not made by this list. Copy the whole link from the mail, or unsubscribe by mail.</p>"));
    }
    const { list, mailbox } = target;
    if (req.method !== "POST") {
      // Never unsubscribes: the button makes the RFC 8058 POST.
      return this.answer(res, 200, page(`Unsubscribe from ${list}`,
        `<p>Stop mail from the list <b>${esc(list)}</b> to <b>${esc(mailbox)}</b>?</p>` +
        `<form method="post" action="${esc(url.search)}"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>`));
    }
    if (Number(req.headers["content-length"] ?? 0) > MAX_BODY_BYTES) return this.answer(res, 413, page("Request too large", ""), { connection: "close" });
    const body = await readBody(req);
    if (body === undefined) return this.answer(res, 413, page("Request too large", ""), { connection: "close" });
    let field: unknown;
    try {
      field = await new Response(new Uint8Array(body), { headers: { "content-type": req.headers["content-type"] ?? "application/x-www-form-urlencoded" } }).formData().then((f) => f.get("List-Unsubscribe"));
    } catch {
      field = null;
    }
    if (field !== "One-Click") return this.answer(res, 400, page("Not an unsubscribe request", "<p>The request must carry List-Unsubscribe=One-Click (RFC 8058).</p>"));
    const r = await this.o.members.remove(list, mailbox);
    this.o.log.info({ list, action: "unsubscribe", via: "one-click", changed: r === "removed" }, "list membership changed by one-click");
    // The same answer whether or not the mailbox was a member.
    return this.answer(res, 200, page(`Unsubscribed from ${list}`,
      `<p><b>${esc(mailbox)}</b> gets no more mail from <b>${esc(list)}</b>. To join again, write to ${esc(commandAddress(list, "subscribe"))}.</p>`));
  }
}

/** The body, or undefined past {@link MAX_BODY_BYTES}. */
async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) {
      req.destroy();
      return undefined;
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
