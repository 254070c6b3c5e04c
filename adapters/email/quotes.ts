/**
 * Quoted replies and signatures are stripped so that a reply by email reads like a chat message
 * (issue 5 §3). What is removed:
 *  - the signature: everything from a line "-- " (RFC 3676 §4.3 signature separator) on;
 *  - a forwarded/original-message block (Outlook's "-----Original Message-----", "From: … Sent: …");
 *  - a trailing block of quoted lines ("> …", RFC 3676 §4.5) with the attribution line before it
 *    ("On <date>, <name> wrote:" and its common translations).
 * Quotes interleaved with answers (inline replies) are kept: there the quote is context.
 * The caller keeps the original (as the message's original blob) whenever anything was removed.
 */
export interface Stripped {
  readonly text: string;
  /** Whether anything was removed. */
  readonly stripped: boolean;
}

const ATTRIBUTION = [
  /^on\b.{0,300}\bwrote:?\s*$/i,
  /^le\b.{0,300}\ba écrit\s*:?\s*$/i,
  /^am\b.{0,300}\bschrieb\b.{0,200}:?\s*$/i,
  /^el\b.{0,300}\bescribió:?\s*$/i,
  /^.{0,300}\b(wrote|schrieb|écrit|escribió|scrisse|schreef|napsal\(a\)|написал\(а\)):\s*$/i,
];
const ORIGINAL = /^\s*(-{2,}\s*(original message|ursprüngliche nachricht|message d'origine|forwarded message)\s*-{2,}|_{10,})\s*$/i;
const OUTLOOK_FROM = /^\s*\**from:\**\s.+/i;

function isQuote(line: string): boolean { return /^\s*>/.test(line); }
function isBlank(line: string): boolean { return line.trim() === ""; }

export function stripQuotes(input: string): Stripped {
  let lines = input.replace(/\r\n/g, "\n").split("\n");
  let removed = false;
  const sig = lines.findIndex((l) => l === "-- " || l === "--");
  if (sig >= 0) { lines = lines.slice(0, sig); removed = true; }
  const orig = lines.findIndex((l, i) => ORIGINAL.test(l) || (OUTLOOK_FROM.test(l) && /^\s*\**(sent|date|gesendet|envoyé):/i.test(lines[i + 1] ?? "")));
  if (orig > 0) { lines = lines.slice(0, orig); removed = true; }
  // Trailing quoted block (with blank lines inside it).
  let end = lines.length;
  while (end > 0 && (isBlank(lines[end - 1]!) || isQuote(lines[end - 1]!))) end--;
  if (end < lines.length && lines.slice(end).some(isQuote)) {
    lines = lines.slice(0, end);
    removed = true;
    // Attribution line(s) just before the quote: may wrap onto two lines.
    const last = (lines.at(-1) ?? "").trim();
    const twoLines = `${(lines.at(-2) ?? "").trim()} ${last}`;
    // "On <date>, <name>" wrapped before "<address> wrote:": the specific (leading-word) forms first.
    const specific = ATTRIBUTION.slice(0, 4);
    if (specific.some((re) => re.test(last))) lines = lines.slice(0, -1);
    else if (lines.length >= 2 && specific.some((re) => re.test(twoLines))) lines = lines.slice(0, -2);
    else if (ATTRIBUTION.some((re) => re.test(last))) lines = lines.slice(0, -1);
  }
  while (lines.length && isBlank(lines.at(-1)!)) lines.pop();
  while (lines.length && isBlank(lines[0]!)) lines.shift();
  const text = lines.join("\n");
  // Nothing but a quote: keep the input rather than send an empty chat message.
  if (text.trim() === "") return { text: input.trim(), stripped: false };
  return { text, stripped: removed };
}
