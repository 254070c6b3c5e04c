/**
 * Canonical presence → PIDF (RFC 3863), with RPID (RFC 4480) and CIPID (RFC 4482) person data
 * in an RFC 4479 `<dm:person>`, for admins and other systems (`parley presence show --pidf`, the
 * admin API with `Accept: application/pidf+xml`). {@link parsePidf} (pidf-parse.ts) reads it
 * back: for every field the model has, serialise → parse is lossless.
 *
 * What PIDF has no element for travels in Parley's own namespace {@link PARLEY_PIDF_NS}
 * (registered in docs/extensions.md): XMPP's `show` and native priority per tuple, the tuple's
 * service, the version, provenance and network, and the model's extensions (JSON text).
 */
import { el, type XmlChild, type XmlElement } from "./xml.js";
import type { LangMap } from "./common.js";
import type { Presence, Show, Tuple } from "./presence.js";

export const PIDF_CONTENT_TYPE = "application/pidf+xml";
export const PIDF_NS = "urn:ietf:params:xml:ns:pidf";
export const DM_NS = "urn:ietf:params:xml:ns:pidf:data-model";
export const RPID_NS = "urn:ietf:params:xml:ns:pidf:rpid";
export const CIPID_NS = "urn:ietf:params:xml:ns:pidf:cipid";
export const PARLEY_PIDF_NS = "urn:parley:pidf:0";

/**
 * A tuple id as an `xs:ID` (an NCName): `t-` then the id with every character outside
 * `[A-Za-z0-9.-]` written `_<hex code point>_`. Injective, so {@link decodeTupleId} inverts it.
 */
export function encodeTupleId(id: string): string {
  let out = "t-";
  for (const ch of id) out += /[A-Za-z0-9.-]/.test(ch) ? ch : `_${ch.codePointAt(0)!.toString(16)}_`;
  return out;
}

/** Inverse of {@link encodeTupleId}; an id not written by it (a foreign document) is kept as is. */
export function decodeTupleId(xmlId: string): string {
  if (!xmlId.startsWith("t-")) return xmlId;
  return xmlId.slice(2).replace(/_([0-9a-f]{1,6})_/g, (_, hex: string) => String.fromCodePoint(parseInt(hex, 16)));
}

/**
 * RFC 6121 priority (−128..127) as a PIDF `qvalue` (0..1, three decimals). The step of 1/255 is
 * wider than the rounding, so {@link qvalueToPriority} gives the same integer back.
 */
export function priorityToQvalue(priority: number): string {
  return (Math.round(((priority + 128) / 255) * 1000) / 1000).toFixed(3);
}

export function qvalueToPriority(q: string): number {
  return Math.round(Number(q) * 255) - 128;
}

/** RPID activities (RFC 4480 §3.2) for a show value; `chat` and plain available have none. */
export const SHOW_TO_ACTIVITY: Readonly<Partial<Record<Show, string>>> = { away: "away", xa: "away", dnd: "busy" };

function notes(name: string, map: LangMap | undefined): XmlElement[] {
  return Object.entries(map ?? {}).map(([lang, text]) => el(name, { "xml:lang": lang === "und" ? undefined : lang }, text));
}

function tupleElement(t: Tuple): XmlElement {
  const children: XmlChild[] = [
    el("status", {}, el("basic", {}, t.basic)),
    el("p:service", {}, t.service),
    t.show !== undefined && el("p:show", {}, t.show),
    t.priority !== undefined && el("p:priority", {}, String(t.priority)),
    t.contact !== undefined && el("contact", { priority: t.priority !== undefined ? priorityToQvalue(t.priority) : undefined }, t.contact),
    ...notes("note", t.note),
    el("timestamp", {}, t.timestamp),
  ];
  return el("tuple", { id: encodeTupleId(t.id) }, ...children);
}

/** The show of the open tuple a watcher would pick (highest priority, RFC 6121 §8.5.2.1.1). */
function leadingShow(p: Presence): Show | undefined {
  const open = p.tuples.filter((t) => t.basic === "open");
  open.sort((a, b) => (b.priority ?? 0) - (a.priority ?? 0));
  return open[0]?.show;
}

function personElement(p: Presence): XmlElement | undefined {
  const person = p.person;
  const activity = SHOW_TO_ACTIVITY[leadingShow(p) ?? "chat"];
  const children: XmlChild[] = [
    activity !== undefined && el("rpid:activities", {}, el(`rpid:${activity}`)),
    person?.userInput && el("rpid:user-input", { "last-input": person.userInput.lastInput }, person.userInput.state),
    person?.displayName !== undefined && el("c:display-name", {}, person.displayName),
    person?.avatar !== undefined && el("c:icon", {}, person.avatar),
    ...(person?.contacts ?? []).map((uri) => el("p:contact", {}, uri)),
    ...notes("dm:note", person?.note),
  ];
  if (children.every((c) => c === false || c === undefined)) return undefined;
  return el("dm:person", { id: "person" }, ...children);
}

function gatewayElement(p: Presence): XmlElement {
  return el("p:gateway", {
    network: p.presentity.network,
    version: String(p.version),
    source: p.provenance.source,
    reason: p.provenance.reason,
    "accepts-messages": p.acceptsMessages === undefined ? undefined : String(p.acceptsMessages),
  });
}

function extensionElements(p: Presence): XmlElement[] {
  return Object.entries(p.extensions).map(([ns, ext]) =>
    el("p:extension", { ns, "must-understand": ext.mustUnderstand === undefined ? undefined : String(ext.mustUnderstand) }, JSON.stringify(ext.payload ?? null)),
  );
}

/** The presence as a PIDF document (UTF-8, with an XML declaration). */
export function serializePidf(p: Presence): string {
  const doc = el(
    "presence",
    { xmlns: PIDF_NS, "xmlns:dm": DM_NS, "xmlns:rpid": RPID_NS, "xmlns:c": CIPID_NS, "xmlns:p": PARLEY_PIDF_NS, entity: `pres:${p.presentity.address}` },
    ...p.tuples.map(tupleElement),
    personElement(p),
    gatewayElement(p),
    ...extensionElements(p),
  );
  return `<?xml version="1.0" encoding="UTF-8"?>\n${doc.toString()}\n`;
}
