/**
 * Canonical message ⇄ Message/CPIM (RFC 3862), RFC 2779 4.1.10: a common format with MIME
 * bodies. `From`, `To`, `DateTime`, `Subject` (one per language) are CPIM's own headers; what
 * CPIM has no header for travels as extension headers in Parley's namespace (`NS: Parley
 * <urn:parley:cpim:0#>`, registered in docs/extensions.md), and the headers a receiver must
 * understand to handle the message correctly are named in `Require` (RFC 3862 §5.7): the demand
 * for end-to-end protection and every `mustUnderstand` extension. For every canonical field the
 * format can hold, parse ∘ serialise is the identity. `parley trace` and admin views may show a
 * message this way.
 */
import { asNetworkId, canonicalAddress, type Endpoint } from "./address.js";
import { CRLF, parseParts, serializeParts, splitEntity } from "./cpim-body.js";
import type { Extensions, LangMap } from "./common.js";
import { newCanonicalId } from "./ids.js";
import { MessageSchema, type Message } from "./message.js";

export const CPIM_CONTENT_TYPE = "message/cpim";
export const PARLEY_CPIM_NS = "urn:parley:cpim:0#";
const P = "Parley.";

/** RFC 3862 §3.2 escapes, so a header value stays on one line. */
function escapeValue(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\r/g, "\\r").replace(/\n/g, "\\n").replace(/\t/g, "\\t");
}

function unescapeValue(v: string): string {
  return v.replace(/\\(.)/g, (_, c: string) => ({ r: "\r", n: "\n", t: "\t" })[c] ?? c);
}

/** `"Formal name" <im:local@domain>` (RFC 3862 §5.1). */
function uriHeader(e: Endpoint, name?: string): string {
  const formal = name !== undefined ? `"${name.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}" ` : "";
  return `${formal}<im:${e.address}>`;
}

function parseUriHeader(v: string): { address: string; name?: string } {
  const m = /^(?:"((?:[^"\\]|\\.)*)"\s*|([^<]*?)\s*)?<([^>]+)>$/.exec(v.trim());
  if (!m) throw new Error(`"${v}" is not [name] <URI>`);
  const name = m[1] !== undefined ? m[1].replace(/\\(.)/g, "$1") : m[2] ? m[2] : undefined;
  return { address: m[3]!.replace(/^(im|pres|mailto|xmpp|sip):/i, ""), ...(name !== undefined ? { name } : {}) };
}

function subjectLines(subject: LangMap | undefined): string[] {
  return Object.entries(subject ?? {}).map(([lang, text]) => `Subject:${lang === "und" ? "" : `;lang=${lang}`} ${escapeValue(text)}`);
}

function extensionLines(exts: Extensions): string[] {
  return Object.entries(exts).map(([ns, e]) => `${P}Extension: ${escapeValue(JSON.stringify({ ns, payload: e.payload ?? null, ...(e.mustUnderstand !== undefined ? { mustUnderstand: e.mustUnderstand } : {}) }))}`);
}

/** The message as a complete `message/cpim` MIME object (RFC 3862 §3), CRLF line ends. */
export function serializeCpim(m: Message): string {
  const require = [m.requireE2E ? `${P}Require-E2E` : undefined, Object.values(m.extensions).some((e) => e.mustUnderstand) ? `${P}Extension` : undefined].filter((r) => r !== undefined);
  const opt = (name: string, v: string | undefined) => (v === undefined ? [] : [`${P}${name}: ${escapeValue(v)}`]);
  const headers = [
    `From: ${uriHeader(m.from, m.displayName)}`,
    `To: ${uriHeader(m.to)}`,
    `DateTime: ${m.sentAt}`,
    ...subjectLines(m.subject),
    `NS: Parley <${PARLEY_CPIM_NS}>`,
    ...(require.length > 0 ? [`Require: ${require.join(",")}`] : []),
    `${P}Message-ID: ${m.id}`,
    `${P}From-Network: ${m.from.network}`,
    `${P}To-Network: ${m.to.network}`,
    `${P}Authenticated-By: ${escapeValue(JSON.stringify(m.authenticatedBy))}`,
    ...(m.replyTo ? [`${P}Reply-To: ${uriHeader(m.replyTo)} ${m.replyTo.network}`] : []),
    `${P}Kind: ${m.kind}`,
    ...opt("Thread", m.thread),
    ...opt("In-Reply-To", m.inReplyTo),
    ...opt("Replaces", m.replaces),
    ...opt("Lang", m.lang),
    ...(m.receiptRequest ? [`${P}Receipt-Request: delivered=${m.receiptRequest.delivered}, displayed=${m.receiptRequest.displayed}`] : []),
    ...(m.requireE2E !== undefined ? [`${P}Require-E2E: ${m.requireE2E}`] : []),
    `${P}Hops: ${m.hops}`,
    ...m.nativeIds.map((n) => `${P}Native-ID: ${escapeValue(JSON.stringify(n))}`),
    ...extensionLines(m.extensions),
  ];
  return `Content-Type: ${CPIM_CONTENT_TYPE}${CRLF}${CRLF}${headers.join(CRLF)}${CRLF}${CRLF}${serializeParts(m.parts)}`;
}

interface CpimHeader {
  readonly name: string;
  readonly params: string;
  readonly value: string;
}

function readHeaders(block: string): CpimHeader[] {
  return block.split(CRLF).filter((l) => l.length > 0).map((line) => {
    const m = /^([A-Za-z0-9.-]+):(;[^ ]*)?\s?(.*)$/.exec(line);
    if (!m) throw new Error(`"${line}" is not a CPIM header`);
    return { name: m[1]!, params: m[2] ?? "", value: m[3]! };
  });
}

/**
 * Parse a `message/cpim` object (with or without its own Content-Type line) into a message. A
 * CPIM written elsewhere has no Parley headers: `network` names both ends' network then, and the
 * message gets a fresh canonical id and no proved sender.
 */
export function parseCpim(text: string, options: { network?: string } = {}): Message {
  let rest = text;
  if (/^content-type:\s*message\/cpim/i.test(rest)) rest = splitEntity(rest).body;
  const end = rest.indexOf(CRLF + CRLF);
  if (end < 0) throw new Error("a CPIM message needs its headers, an empty line and a MIME body");
  const headers = readHeaders(rest.slice(0, end));
  const all = (name: string) => headers.filter((h) => h.name === name);
  const one = (name: string) => all(name)[0]?.value;
  const known = new Set(["Message-ID", "From-Network", "To-Network", "Authenticated-By", "Reply-To", "Kind", "Thread", "In-Reply-To", "Replaces", "Lang", "Receipt-Request", "Require-E2E", "Hops", "Native-ID", "Extension"]);
  const required = (one("Require") ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  for (const r of required) {
    if (!r.startsWith(P) || !known.has(r.slice(P.length))) throw new Error(`Require names ${r}, which Parley does not understand (RFC 3862 §5.7)`);
  }
  const from = parseUriHeader(one("From") ?? "");
  const to = parseUriHeader(one("To") ?? "");
  const p = (name: string) => one(`${P}${name}`);
  const fromNetwork = p("From-Network") ?? options.network;
  if (fromNetwork === undefined) throw new Error("the message does not name its networks (pass one)");
  const replyTo = p("Reply-To");
  const replyNet = replyTo?.slice(replyTo.lastIndexOf(" ") + 1);
  const receipt = p("Receipt-Request");
  const subjects = all("Subject");
  const extensions: Extensions = {};
  for (const h of all(`${P}Extension`)) {
    const e = JSON.parse(unescapeValue(h.value)) as { ns: string; payload: unknown; mustUnderstand?: boolean };
    extensions[e.ns] = { payload: e.payload, ...(e.mustUnderstand !== undefined ? { mustUnderstand: e.mustUnderstand } : {}) };
  }
  const unescaped = (v: string | undefined) => (v === undefined ? undefined : unescapeValue(v));
  return MessageSchema.parse({
    id: p("Message-ID") ?? newCanonicalId(),
    nativeIds: all(`${P}Native-ID`).map((h) => JSON.parse(unescapeValue(h.value)) as unknown),
    from: { address: canonicalAddress(from.address), network: asNetworkId(fromNetwork) },
    authenticatedBy: p("Authenticated-By") !== undefined ? (JSON.parse(unescapeValue(p("Authenticated-By")!)) as unknown) : { method: "none" },
    displayName: from.name,
    to: { address: canonicalAddress(to.address), network: asNetworkId(p("To-Network") ?? fromNetwork) },
    replyTo: replyTo !== undefined ? { address: parseUriHeader(replyTo.slice(0, replyTo.lastIndexOf(" "))).address, network: replyNet } : undefined,
    sentAt: one("DateTime"),
    subject: subjects.length > 0 ? Object.fromEntries(subjects.map((s) => [/;lang=([^;]+)/.exec(s.params)?.[1] ?? "und", unescapeValue(s.value)])) : undefined,
    kind: p("Kind"),
    thread: unescaped(p("Thread")),
    inReplyTo: p("In-Reply-To"),
    replaces: p("Replaces"),
    lang: unescaped(p("Lang")),
    parts: parseParts(rest.slice(end + 4)),
    receiptRequest: receipt !== undefined ? { delivered: /delivered=true/.test(receipt), displayed: /displayed=true/.test(receipt) } : undefined,
    requireE2E: p("Require-E2E") !== undefined ? p("Require-E2E") === "true" : undefined,
    hops: p("Hops") !== undefined ? Number(p("Hops")) : undefined,
    extensions,
  });
}
