/**
 * Message content both ways (Matrix spec, client-server API "m.room.message msgtypes", "Rich
 * replies", "Event replacements"): msgtype ↔ kind, `formatted_body` HTML sanitised to the spec's
 * recommended tag set, always a plain `body` (RFC 2779 4.1.7).
 */
import sanitizeHtml from "sanitize-html";
import type { MessageKind } from "../../src/model/message.js";

/** Client-server API "m.room.message msgtypes", `org.matrix.custom.html`: the tags clients are told to allow. */
const MATRIX_HTML: sanitizeHtml.IOptions = {
  allowedTags: [
    "font", "del", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "p", "a", "ul", "ol", "sup", "sub", "li", "b", "i", "u",
    "strong", "em", "s", "strike", "code", "hr", "br", "div", "table", "thead", "tbody", "tr", "th", "td", "caption", "pre",
    "span", "details", "summary",
  ],
  allowedAttributes: {
    font: ["data-mx-bg-color", "data-mx-color", "color"],
    span: ["data-mx-bg-color", "data-mx-color", "data-mx-spoiler"],
    a: ["href", "target"],
    ol: ["start"],
    code: ["class"],
  },
  allowedSchemes: ["https", "http", "ftp", "mailto", "magnet", "xmpp", "matrix"],
  allowedClasses: { code: [/^language-[a-z0-9+-]+$/] },
  // A rich reply's quoted fallback is not the message (client-server API "Rich replies").
  exclusiveFilter: (frame) => frame.tag === "mx-reply",
  nonTextTags: ["style", "script", "textarea", "option", "noscript", "mx-reply"],
};

export function sanitizeMatrixHtml(html: string): string {
  return sanitizeHtml(html, MATRIX_HTML).trim();
}

/** A message content's formatted body (`org.matrix.custom.html`), sanitised; "" when it has none. */
export function htmlOf(content: Readonly<Record<string, unknown>>): string {
  return content.format === "org.matrix.custom.html" && typeof content.formatted_body === "string" ? sanitizeMatrixHtml(content.formatted_body) : "";
}

/** Plain text of an HTML fragment (when a message has HTML and no text). */
export function htmlToText(html: string): string {
  return sanitizeHtml(html.replace(/<br\s*\/?>/gi, "\n").replace(/<\/p>/gi, "\n"), { allowedTags: [], allowedAttributes: {} }).trim();
}

export type TextMsgtype = "m.text" | "m.notice" | "m.emote";

export function msgtypeFor(kind: MessageKind): TextMsgtype {
  return kind === "notice" ? "m.notice" : kind === "emote" ? "m.emote" : "m.text";
}

export function kindFor(msgtype: string): MessageKind | undefined {
  switch (msgtype) {
    case "m.text": return "chat";
    case "m.notice": return "notice";
    case "m.emote": return "emote";
    default: return undefined;
  }
}

/** Strip a reply's quoted fallback (`> ` lines then a blank line) from a plain body. */
export function stripReplyFallback(body: string): string {
  if (!body.startsWith("> ")) return body;
  const lines = body.split("\n");
  let i = 0;
  while (i < lines.length && lines[i]!.startsWith(">")) i++;
  if (i < lines.length && lines[i] === "") i++;
  return lines.slice(i).join("\n");
}

/** Hop count on the wire (DESIGN §3): a namespaced content key. */
export const HOPS_KEY = "org.parley.hops";
