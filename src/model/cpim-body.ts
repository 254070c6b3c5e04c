/**
 * The encapsulated MIME object of a Message/CPIM (RFC 3862 §3.3) for a canonical message's parts:
 * one text part as `text/plain`, several as `multipart/mixed` (RFC 2046 §5.1.3). Attachments and
 * opaque parts travel by reference, as `message/external-body` (RFC 2046 §5.2.3) with Parley's
 * access type `x-parley-blob`: the blob itself never goes into the document, as it never goes into
 * Redis. Bodies are kept byte for byte (8bit, no line-ending rewriting), so parse ∘ serialise is
 * the identity on parts.
 */
import { randomBytes } from "node:crypto";
import type { Part } from "./message.js";

export const CRLF = "\r\n";

/** `Name: value` lines with MIME parameters quoted (RFC 2045 §5.1); values never hold CR or LF here. */
function quoteParam(v: string): string {
  return `"${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\r/g, "\\r").replace(/\n/g, "\\n")}"`;
}

function partHeaders(p: Part): string[] {
  switch (p.role) {
    case "text":
      return ["Content-Type: text/plain; charset=utf-8", ...(p.lang !== undefined ? [`Content-Language: ${p.lang}`] : [])];
    case "html":
      return ["Content-Type: text/html; charset=utf-8"];
    case "attachment":
    case "opaque": {
      const disposition = `Content-Disposition: attachment; size=${p.size}${p.role === "attachment" && p.filename !== undefined ? `; filename=${quoteParam(p.filename)}` : ""}`;
      const security = p.role === "opaque" ? `; security=${p.security}` : "";
      return [`Content-Type: message/external-body; access-type=x-parley-blob; blob-ref=${quoteParam(p.blobRef)}; role=${p.role}${security}`, "", `Content-Type: ${p.contentType}`, disposition];
    }
  }
}

function partText(p: Part): string {
  const body = p.role === "text" || p.role === "html" ? p.body : "";
  return `${partHeaders(p).join(CRLF)}${CRLF}${CRLF}${body}`;
}

/** The MIME object for `parts`; a multipart boundary is chosen that no body contains. */
export function serializeParts(parts: readonly Part[]): string {
  const only = parts[0];
  if (parts.length === 1 && only && only.role === "text") return partText(only);
  const texts = parts.map(partText);
  let boundary: string;
  do boundary = `parley-${randomBytes(12).toString("hex")}`;
  while (texts.some((t) => t.includes(boundary)));
  const header = `Content-Type: multipart/mixed; boundary="${boundary}"${CRLF}${CRLF}`;
  return header + texts.map((t) => `--${boundary}${CRLF}${t}${CRLF}`).join("") + `--${boundary}--`;
}

/** Split a MIME entity into its header lines and its body at the first empty line. */
export function splitEntity(entity: string): { headers: Map<string, string>; body: string } {
  const end = entity.indexOf(CRLF + CRLF);
  const head = end < 0 ? entity : entity.slice(0, end);
  const body = end < 0 ? "" : entity.slice(end + 4);
  const headers = new Map<string, string>();
  for (const line of head.split(CRLF)) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { headers, body };
}

/** `type/subtype; a=b; c="d"` → the type and its parameters (names lower-cased). */
export function parseContentType(value: string): { type: string; params: Map<string, string> } {
  const params = new Map<string, string>();
  const semi = value.indexOf(";");
  const type = (semi < 0 ? value : value.slice(0, semi)).trim().toLowerCase();
  const re = /;\s*([A-Za-z0-9_.-]+)=(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))/g;
  for (const m of value.slice(Math.max(semi, 0)).matchAll(re)) {
    const quoted = m[2]?.replace(/\\(.)/g, (_, c: string) => (c === "r" ? "\r" : c === "n" ? "\n" : c));
    params.set(m[1]!.toLowerCase(), quoted ?? m[3] ?? "");
  }
  return { type, params };
}

function parsePart(entity: string): Part {
  const { headers, body } = splitEntity(entity);
  const ct = parseContentType(headers.get("content-type") ?? "text/plain");
  if (ct.type === "text/plain") {
    const lang = headers.get("content-language");
    return { role: "text", body, ...(lang !== undefined ? { lang } : {}) };
  }
  if (ct.type === "text/html") return { role: "html", body };
  if (ct.type !== "message/external-body" || ct.params.get("access-type") !== "x-parley-blob") throw new Error(`unsupported part ${ct.type}`);
  const blobRef = ct.params.get("blob-ref");
  if (blobRef === undefined) throw new Error("an external-body part has no blob-ref");
  const inner = splitEntity(body);
  const contentType = inner.headers.get("content-type") ?? "application/octet-stream";
  const disposition = parseContentType(inner.headers.get("content-disposition") ?? "attachment");
  const size = Number(disposition.params.get("size") ?? 0);
  const security = ct.params.get("security");
  if (ct.params.get("role") === "opaque") return { role: "opaque", contentType, blobRef, size, security: security === "encrypted" ? "encrypted" : "signed" };
  const filename = disposition.params.get("filename");
  return { role: "attachment", contentType, blobRef, size, ...(filename !== undefined ? { filename } : {}) };
}

/** Inverse of {@link serializeParts}. */
export function parseParts(entity: string): Part[] {
  const { headers, body } = splitEntity(entity);
  const ct = parseContentType(headers.get("content-type") ?? "text/plain");
  if (!ct.type.startsWith("multipart/")) return [parsePart(entity)];
  const boundary = ct.params.get("boundary");
  if (!boundary) throw new Error("a multipart body has no boundary");
  const end = body.indexOf(`--${boundary}--`);
  const inner = end < 0 ? body : body.slice(0, end);
  return inner
    .split(`--${boundary}${CRLF}`)
    .slice(1)
    .map((chunk) => parsePart(chunk.endsWith(CRLF) ? chunk.slice(0, -CRLF.length) : chunk));
}
