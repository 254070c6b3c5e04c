/**
 * Structural bounds checked on the raw message before any parser sees it (issue 5 §3): MIME
 * nesting depth and part count (RFC 2046 §5.1 multipart, §5.2.1 message/rfc822), header field
 * count per entity, and RFC 5322 §2.1.1's 998-octet line limit in header sections. A message
 * outside the bounds is refused at end of DATA with 552/554, never half-parsed.
 */
export interface MimeBounds {
  readonly maxParts: number;
  readonly maxDepth: number;
  readonly maxHeaderLineBytes: number;
  readonly maxHeaderFields: number;
}

export class MimeLimitError extends Error {
  constructor(readonly what: "depth" | "parts" | "header-line" | "header-fields" | "no-header", message: string) {
    super(message);
  }
}

interface Entity { readonly headers: ReadonlyMap<string, string>; readonly body: string }

function splitEntity(text: string, b: MimeBounds): Entity {
  const m = /\r?\n\r?\n/.exec(text);
  const head = m ? text.slice(0, m.index) : text;
  const body = m ? text.slice(m.index + m[0].length) : "";
  const headers = new Map<string, string>();
  let fields = 0;
  let current: string | undefined;
  for (const line of head.split(/\r?\n/)) {
    if (line.length > b.maxHeaderLineBytes) throw new MimeLimitError("header-line", `header line longer than ${b.maxHeaderLineBytes} octets (RFC 5322 §2.1.1)`);
    if (/^[ \t]/.test(line) && current !== undefined) {
      headers.set(current, `${headers.get(current) ?? ""} ${line.trim()}`);
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    if (++fields > b.maxHeaderFields) throw new MimeLimitError("header-fields", `more than ${b.maxHeaderFields} header fields in one entity`);
    current = line.slice(0, colon).trim().toLowerCase();
    if (!headers.has(current)) headers.set(current, line.slice(colon + 1).trim());
    else current = `${current}#${fields}`; // keep the first of each; later ones only counted
  }
  return { headers, body };
}

function boundaryOf(contentType: string): string | undefined {
  const m = /;\s*boundary\s*=\s*(?:"([^"]{1,200})"|([^\s;"]{1,200}))/i.exec(contentType);
  return m?.[1] ?? m?.[2];
}

function escapeRe(s: string): string { return s.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&"); }

/** The bodies between boundary delimiter lines (RFC 2046 §5.1.1). */
function parts(body: string, boundary: string): string[] {
  const re = new RegExp(`(?:^|\\r?\\n)--${escapeRe(boundary)}(--)?[ \\t]*(?=\\r?\\n|$)`, "g");
  const out: string[] = [];
  let start: number | undefined;
  for (let m = re.exec(body); m; m = re.exec(body)) {
    if (start !== undefined) out.push(body.slice(start, m.index));
    if (m[1]) return out;
    start = m.index + m[0].length;
    const nl = /^\r?\n/.exec(body.slice(start, start + 2));
    if (nl) start += nl[0].length;
  }
  if (start !== undefined) out.push(body.slice(start)); // unterminated last part
  return out;
}

/** Throws {@link MimeLimitError} when `raw` exceeds the bounds; returns the number of entities. */
export function checkMimeBounds(raw: Buffer, b: MimeBounds): number {
  const text = raw.toString("latin1");
  if (!/^[\x21-\x39\x3b-\x7e]+:/.test(text)) throw new MimeLimitError("no-header", "message does not start with a header field");
  let count = 0;
  const walk = (entityText: string, depth: number): void => {
    if (depth > b.maxDepth) throw new MimeLimitError("depth", `MIME nesting deeper than ${b.maxDepth}`);
    if (++count > b.maxParts) throw new MimeLimitError("parts", `more than ${b.maxParts} MIME parts`);
    const e = splitEntity(entityText, b);
    const ct = e.headers.get("content-type") ?? "text/plain";
    if (/^\s*multipart\//i.test(ct)) {
      const boundary = boundaryOf(ct);
      if (boundary) for (const p of parts(e.body, boundary)) walk(p, depth + 1);
    } else if (/^\s*message\/(rfc822|global)\b/i.test(ct)) {
      walk(e.body, depth + 1);
    }
  };
  walk(text, 0);
  return count;
}

/** First value of a top-level header field (unfolded), from the raw message. */
export function topHeader(raw: Buffer, name: string): string | undefined {
  const head = raw.subarray(0, Math.min(raw.length, 256 * 1024)).toString("latin1");
  const end = /\r?\n\r?\n/.exec(head);
  const unfolded = (end ? head.slice(0, end.index) : head).replace(/\r?\n[ \t]+/g, " ");
  const re = new RegExp(`^${escapeRe(name)}[ \\t]*:[ \\t]*(.*)$`, "im");
  return re.exec(unfolded)?.[1]?.trim();
}

/** How many times a top-level header field occurs (case-insensitive; folded lines count once). */
export function topHeaderCount(raw: Buffer, name: string): number {
  const head = raw.subarray(0, Math.min(raw.length, 1024 * 1024)).toString("latin1");
  const end = /\r?\n\r?\n/.exec(head);
  const re = new RegExp(`^${escapeRe(name)}[ \\t]*:`, "gim");
  return ((end ? head.slice(0, end.index) : head).match(re) ?? []).length;
}
