/**
 * Matrix events that real clients send besides `m.room.message`, as message content Parley can
 * bridge (pure translations; inbound.ts and rooms/inbound.ts plan them):
 * - `m.sticker` (client-server API "Stickers": `body`, `url`, `info`) → an `m.image`;
 * - a poll's start (MSC3381: `m.poll.start`, unstable `org.matrix.msc3381.poll.start`) → text,
 *   the question then numbered answers (votes and results are not bridged);
 * - the `m.location` msgtype → text that is exactly its `geo_uri` (RFC 5870; XMPP clients show a
 *   body that is a `geo:` URI as a map), the description kept in an HTML part.
 */
import type { Part } from "../../../src/model/message.js";
import type { MatrixEvent } from "../types.js";
import { isObj } from "../untrusted.js";

type Obj = Record<string, unknown>;

export const STICKER = "m.sticker";
export const LOCATION_MSGTYPE = "m.location";
const POLL_STARTS: ReadonlySet<string> = new Set(["m.poll.start", "org.matrix.msc3381.poll.start"]);
/** MSC3381 caps a poll at 20 answers. */
const MAX_ANSWERS = 20;
const MAX_GEO_URI = 256;

export const isPollStart = (type: string): boolean => POLL_STARTS.has(type);

/**
 * Text of an extensible event (MSC1767): `m.text` / `org.matrix.msc1767.text` as a string (the
 * unstable form) or as an array of `{ body, mimetype }` (plain text preferred), else `body`.
 */
export function extensibleText(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (Array.isArray(v)) {
    const plain = (v as unknown[]).find((r) => isObj(r) && typeof r.body === "string" && (r.mimetype === undefined || r.mimetype === "text/plain"));
    return isObj(plain) ? (plain.body as string) : undefined;
  }
  if (!isObj(v)) return undefined;
  for (const key of ["m.text", "org.matrix.msc1767.text"]) {
    const t = v[key] !== undefined ? extensibleText(v[key]) : undefined;
    if (t !== undefined) return t;
  }
  return typeof v.body === "string" ? v.body : undefined;
}

function pollOf(content: Obj): Obj | undefined {
  for (const key of ["m.poll", "m.poll.start", "org.matrix.msc3381.poll.start"]) if (isObj(content[key])) return content[key];
  return undefined;
}

/** A poll's question and numbered answers; the event's text fallback when the poll is unreadable. */
export function pollText(content: Obj): string | undefined {
  const poll = pollOf(content);
  const question = poll ? extensibleText(poll.question)?.trim() : undefined;
  const answers = poll && Array.isArray(poll.answers) ? poll.answers.slice(0, MAX_ANSWERS).map((a) => extensibleText(a)?.trim()) : [];
  if (question && answers.length > 0 && answers.every((a) => a)) {
    return `Poll: ${question}\n${answers.map((a, i) => `${i + 1}. ${a}`).join("\n")}`;
  }
  const fallback = extensibleText(content)?.trim();
  return fallback ? `Poll: ${fallback}` : undefined;
}

/**
 * The content of an event to bridge as a message: an `m.room.message` as it is, a sticker as an
 * `m.image`, a poll's start as its text (no `body` when unreadable: the caller says it is
 * malformed); undefined for any other event.
 */
export function messageContentOf(ev: MatrixEvent): Obj | undefined {
  const c = ev.content;
  if (ev.type === "m.room.message") return c;
  if (ev.type === STICKER) return { ...c, msgtype: "m.image" };
  if (!isPollStart(ev.type)) return undefined;
  const body = pollText(c);
  return { msgtype: "m.text", ...(body !== undefined ? { body } : {}), ...(isObj(c["m.relates_to"]) ? { "m.relates_to": c["m.relates_to"] } : {}) };
}

/** RFC 5870 `geo:` URI: latitude, longitude, optional altitude, then `;` parameters (`crs`, `u`, …). */
const GEO = /^geo:-?\d{1,3}(?:\.\d+)?,-?\d{1,3}(?:\.\d+)?(?:,-?\d+(?:\.\d+)?)?(?:;[\w.!$&'()*+:@%=[\]-]*)*$/i;

export function isGeoUri(s: string): boolean {
  return s.length <= MAX_GEO_URI && GEO.test(s);
}

const escapeHtml = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/**
 * An `m.location` message's parts: text that is exactly the `geo_uri`, and when it has a
 * description (MSC3488 `description`, else `body`) an HTML part with the description and the
 * link, for networks that show HTML (email). Undefined when `geo_uri` is not a `geo:` URI.
 */
export function locationParts(content: Obj): Part[] | undefined {
  const geo = typeof content.geo_uri === "string" ? content.geo_uri.trim() : "";
  if (!isGeoUri(geo)) return undefined;
  const msc = content["org.matrix.msc3488.location"];
  const described = isObj(msc) && typeof msc.description === "string" ? msc.description : content.body;
  const description = typeof described === "string" ? described.trim() : "";
  if (description === "" || description === geo) return [{ role: "text", body: geo }];
  const html = `<p>${escapeHtml(description).replace(/\n/g, "<br>")}</p><p><a href="${escapeHtml(geo)}">${escapeHtml(geo)}</a></p>`;
  return [{ role: "text", body: geo }, { role: "html", body: html }];
}
