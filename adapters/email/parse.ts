/**
 * MIME → the pieces a canonical message needs (issue 5 §3), with mailparser: text and HTML parts,
 * charsets and RFC 2047 encoded words (in Subject and names), attachments. HTML is sanitised with a
 * conservative allow-list; a text alternative is always present (RFC 2779 T-4.1.7, T-5.4.8).
 * Signed or encrypted messages (RFC 1847 multipart/signed, multipart/encrypted, S/MIME) are also
 * kept whole as an opaque part so a signature still verifies after bridging (RFC 2779 5.4.9).
 */
import { simpleParser, type Attachment } from "mailparser";
import sanitizeHtml from "sanitize-html";
import { topHeader } from "./mime-limits.js";

export interface ParsedEmail {
  readonly fromAddress: string | undefined;
  readonly fromName: string | undefined;
  /** Number of mailboxes in From: (RFC 5322 §3.6.2 allows several; we trust only one). */
  readonly fromCount: number;
  readonly replyTo: string | undefined;
  readonly messageId: string | undefined;
  readonly inReplyTo: string | undefined;
  readonly references: readonly string[];
  readonly subject: string | undefined;
  readonly date: Date | undefined;
  readonly lang: string | undefined;
  readonly text: string;
  readonly html: string | undefined;
  readonly attachments: readonly Attachment[];
  readonly security: "signed" | "encrypted" | undefined;
}

const ALLOWED_TAGS = ["a", "b", "i", "em", "strong", "u", "s", "code", "pre", "blockquote", "p", "br", "ul", "ol", "li", "span", "div", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "table", "thead", "tbody", "tr", "td", "th", "sub", "sup", "del"];

export function sanitise(html: string): string {
  return sanitizeHtml(html, {
    allowedTags: ALLOWED_TAGS,
    allowedAttributes: { a: ["href", "title"] },
    allowedSchemes: ["http", "https", "mailto", "xmpp", "matrix"],
    disallowedTagsMode: "discard",
    // Remote images and styles could track the reader or leak addresses: not carried.
    nonTextTags: ["style", "script", "textarea", "option", "noscript", "title", "head"],
  });
}

function htmlToPlain(html: string): string {
  return sanitizeHtml(html.replace(/<\s*(br|\/p|\/div|\/li|\/tr|\/h\d)\b[^>]*>/gi, "\n"), { allowedTags: [], allowedAttributes: {} })
    .replace(/&nbsp;/g, " ").replace(/&amp;/g, "&").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&#39;/g, "'")
    .replace(/\n{3,}/g, "\n\n").trim();
}

function ids(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  const all = (Array.isArray(value) ? value.join(" ") : value).match(/<[^<>\s]{1,250}>/g);
  return all ? all.slice(0, 50) : [];
}

export async function parseEmail(raw: Buffer): Promise<ParsedEmail> {
  const p = await simpleParser(raw, { skipImageLinks: true, skipTextLinks: true, maxHtmlLengthToParse: 2 * 1024 * 1024, keepDeliveryStatus: true });
  const from = p.from?.value.filter((a) => a.address) ?? [];
  const html = typeof p.html === "string" ? sanitise(p.html) : undefined;
  const text = (p.text ?? "").trim() || (html ? htmlToPlain(html) : "");
  const ct = (topHeader(raw, "Content-Type") ?? "").toLowerCase();
  const security = /^multipart\/signed/.test(ct) ? "signed" : /^(multipart\/encrypted|application\/(pkcs7|x-pkcs7)-mime)/.test(ct) ? "encrypted" : undefined;
  const lang = topHeader(raw, "Content-Language")?.split(",")[0]?.trim();
  return {
    fromAddress: from[0]?.address,
    fromName: from[0]?.name || undefined,
    fromCount: p.from?.value.length ?? 0,
    replyTo: p.replyTo?.value.find((a) => a.address)?.address,
    messageId: ids(p.messageId)[0],
    inReplyTo: ids(p.inReplyTo)[0],
    references: ids(p.references),
    subject: p.subject,
    date: p.date && !Number.isNaN(p.date.getTime()) ? p.date : undefined,
    lang: lang && /^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/.test(lang) ? lang : undefined,
    text,
    html: html && html.trim() ? html : undefined,
    attachments: p.attachments,
    security,
  };
}

/** RFC 3834 §2 and list headers: mail that must not be bridged back into chat. */
export function automaticKind(raw: Buffer): string | undefined {
  const auto = topHeader(raw, "Auto-Submitted");
  if (auto && !/^no\b/i.test(auto)) return `auto-submitted: ${auto.slice(0, 40)}`;
  const precedence = topHeader(raw, "Precedence");
  if (precedence && /^(bulk|junk|list|auto_reply)\b/i.test(precedence)) return `precedence: ${precedence.slice(0, 20)}`;
  if (topHeader(raw, "List-Id") !== undefined) return "list-id";
  if (topHeader(raw, "List-Unsubscribe") !== undefined) return "list-unsubscribe";
  if (topHeader(raw, "X-Autoreply") !== undefined || topHeader(raw, "X-Autorespond") !== undefined) return "x-autoreply";
  return undefined;
}
