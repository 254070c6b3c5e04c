/**
 * Text that came from chat and goes into a mail header (display names, subjects) is stripped of
 * CR, LF, NUL and other control characters so it can never start a new header field or an SMTP
 * command (RFC 5322 §2.2: header field bodies are single unfolded lines here; RFC 5321 §4.1.1).
 */
// eslint-disable-next-line no-control-regex -- removing control characters is the point
const CONTROLS = /[\u0000-\u001f\u007f\u0085\u2028\u2029]+/g;

export function headerSafe(text: string, maxChars = 200): string {
  const clean = text.replace(CONTROLS, " ").replace(/\s+/g, " ").trim();
  return [...clean].slice(0, maxChars).join("");
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A minimal HTML rendering of plain chat text, for the text/html alternative. */
export function textToHtml(text: string): string {
  return `<div>${escapeHtml(text).replace(/\r?\n/g, "<br>\n")}</div>`;
}
