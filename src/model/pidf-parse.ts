/**
 * PIDF (RFC 3863) → canonical presence: the inverse of {@link serializePidf}, and a reader for
 * PIDF documents other systems write (RPID activities become `show`, a contact's `qvalue` the
 * priority, presence-level notes the person's note, elements of unknown namespaces extensions
 * — RFC 3863 §4.2.3, RFC 2779 3.1.4). Errors say what is wrong with the document.
 */
import { asNetworkId, canonicalAddress } from "./address.js";
import type { Extensions, LangMap } from "./common.js";
import { CIPID_NS, DM_NS, PARLEY_PIDF_NS, PIDF_NS, RPID_NS, decodeTupleId, qvalueToPriority } from "./pidf.js";
import { PresenceSchema, ShowSchema, type Presence, type Show } from "./presence.js";
import { childNs, childrenNs, langOf, localName, parseXml, type XmlElement } from "./xml.js";

export interface ParsePidfOptions {
  /** The presentity's network when the document does not say (a PIDF from outside Parley). */
  readonly network?: string;
  /** Timestamp for tuples that carry none (RFC 3863 makes `<timestamp>` optional). */
  readonly now?: () => Date;
}

const ACTIVITY_TO_SHOW: Readonly<Record<string, Show>> = { away: "away", busy: "dnd", "on-the-phone": "dnd", meeting: "dnd", vacation: "xa", holiday: "xa", "permanent-absence": "xa", sleeping: "xa" };
const KNOWN_NS = new Set([PIDF_NS, DM_NS, RPID_NS, CIPID_NS, PARLEY_PIDF_NS]);

const text = (e: XmlElement | undefined): string | undefined => (e === undefined ? undefined : e.text().trim());

function langMap(elements: readonly XmlElement[]): LangMap | undefined {
  if (elements.length === 0) return undefined;
  return Object.fromEntries(elements.map((n) => [langOf(n) ?? "und", n.text()]));
}

function activityShow(container: XmlElement | undefined): Show | undefined {
  const activities = container && childNs(container, "activities", RPID_NS);
  for (const a of activities?.getChildElements() ?? []) {
    const show = a.getNS() === RPID_NS ? ACTIVITY_TO_SHOW[localName(a)] : undefined;
    if (show) return show;
  }
  return undefined;
}

function parseTuple(t: XmlElement, person: XmlElement | undefined, now: () => Date): Presence["tuples"][number] {
  const id = t.attrs.id;
  if (!id) throw new Error("a <tuple> has no id");
  const basic = text(childNs(childNs(t, "status", PIDF_NS) ?? t, "basic", PIDF_NS));
  if (basic !== "open" && basic !== "closed") throw new Error(`tuple ${id}: <basic> must be open or closed`);
  const contact = childNs(t, "contact", PIDF_NS);
  const nativePriority = text(childNs(t, "priority", PARLEY_PIDF_NS));
  const q = contact?.attrs.priority;
  const show = text(childNs(t, "show", PARLEY_PIDF_NS));
  return {
    id: decodeTupleId(id),
    service: (text(childNs(t, "service", PARLEY_PIDF_NS)) ?? "im") as "im",
    basic,
    show: show !== undefined ? ShowSchema.parse(show) : basic === "open" ? (activityShow(t) ?? activityShow(person)) : undefined,
    note: langMap(childrenNs(t, "note", PIDF_NS)),
    priority: nativePriority !== undefined ? Number(nativePriority) : q !== undefined ? qvalueToPriority(q) : undefined,
    contact: text(contact),
    timestamp: text(childNs(t, "timestamp", PIDF_NS)) ?? now().toISOString(),
  };
}

function parsePerson(person: XmlElement | undefined, presenceNotes: readonly XmlElement[]): Presence["person"] {
  const input = person && childNs(person, "user-input", RPID_NS);
  const state = text(input) as "active" | "idle" | undefined;
  const contacts = person ? childrenNs(person, "contact", PARLEY_PIDF_NS).map((c) => c.text().trim()) : [];
  const out = {
    note: langMap(person ? childrenNs(person, "note", DM_NS) : []) ?? langMap(presenceNotes),
    userInput: state === "active" || state === "idle" ? { state, lastInput: input?.attrs["last-input"] } : undefined,
    contacts: contacts.length > 0 ? contacts : undefined,
    displayName: person ? childNs(person, "display-name", CIPID_NS)?.text() : undefined,
    avatar: person ? text(childNs(person, "icon", CIPID_NS)) : undefined,
  };
  return Object.values(out).some((v) => v !== undefined) ? out : undefined;
}

function parseExtensions(root: XmlElement): Extensions {
  const out: Extensions = {};
  for (const e of childrenNs(root, "extension", PARLEY_PIDF_NS)) {
    const ns = e.attrs.ns;
    if (!ns) throw new Error("a <p:extension> has no ns");
    const mu = e.attrs["must-understand"];
    out[ns] = { payload: JSON.parse(e.text()) as unknown, ...(mu !== undefined ? { mustUnderstand: mu === "true" } : {}) };
  }
  // A foreign element Parley has no mapping for is kept whole, as XML text, under its namespace.
  for (const e of root.getChildElements()) {
    const ns = e.getNS();
    if (ns && !KNOWN_NS.has(ns) && out[ns] === undefined) out[ns] = { payload: e.toString() };
  }
  return out;
}

/** Parse a PIDF document into a canonical presence; throws an Error naming what is wrong. */
export function parsePidf(document: string, options: ParsePidfOptions = {}): Presence {
  const root = parseXml(document);
  if (localName(root) !== "presence" || root.getNS() !== PIDF_NS) throw new Error(`the root element must be <presence xmlns="${PIDF_NS}">`);
  const entity = root.attrs.entity;
  if (!entity) throw new Error("<presence> has no entity");
  const gateway = childNs(root, "gateway", PARLEY_PIDF_NS);
  const network = gateway?.attrs.network ?? options.network;
  if (network === undefined) throw new Error("the document does not name the presentity's network (pass one)");
  const person = childNs(root, "person", DM_NS);
  const now = options.now ?? (() => new Date());
  const accepts = gateway?.attrs["accepts-messages"];
  return PresenceSchema.parse({
    presentity: { address: canonicalAddress(entity.replace(/^(pres|im|sip|xmpp):/i, "")), network: asNetworkId(network) },
    tuples: childrenNs(root, "tuple", PIDF_NS).map((t) => parseTuple(t, person, now)),
    person: parsePerson(person, childrenNs(root, "note", PIDF_NS)),
    acceptsMessages: accepts === undefined ? undefined : accepts === "true",
    version: Number(gateway?.attrs.version ?? 0),
    provenance: { source: gateway?.attrs.source === "gateway" ? "gateway" : "origin", ...(gateway?.attrs.reason !== undefined ? { reason: gateway.attrs.reason } : {}) },
    extensions: parseExtensions(root),
  });
}
