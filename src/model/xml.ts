/**
 * The XML the model itself speaks: PIDF (RFC 3863) documents for presence. One place builds and
 * parses them, on ltx through `@xmpp/xml` (already the XMPP adapter's parser; its types are
 * declared beside this file in xmpp-xml.d.ts), so the escaping
 * rules of XML 1.0 §2.4 and §3.3.3 are applied by one tested library rather than by hand.
 */
import xml from "@xmpp/xml";

export type XmlElement = xml.Element;
export type XmlChild = xml.Child;

/** Build an element; `undefined` attributes are left out, and so are `undefined`/`false` children. */
export function el(name: string, attrs: Record<string, string | undefined> = {}, ...children: XmlChild[]): XmlElement {
  return xml(name, attrs, ...children);
}

/** Largest document accepted, before any parsing (ltx is slow on huge text nodes, STACK.md). */
export const MAX_XML_BYTES = 256 * 1024;

/**
 * Parse a whole XML document into its root element. Refuses a DOCTYPE (no entity expansion),
 * mismatched tags, text outside the root and more than one root; the error says what is wrong.
 */
export function parseXml(text: string): XmlElement {
  if (Buffer.byteLength(text) > MAX_XML_BYTES) throw new Error(`XML document larger than ${MAX_XML_BYTES} bytes`);
  const body = text.replace(/^\uFEFF?\s*<\?xml[^?]*\?>/, "").trim();
  if (/<!DOCTYPE/i.test(body)) throw new Error("XML document with a DOCTYPE is refused");
  const parser = new xml.Parser();
  let root: XmlElement | undefined;
  let closed = false;
  let error: string | undefined;
  const fail = (why: string) => (error ??= why);
  parser.on("start", (e) => (root = e));
  parser.on("element", (e) => (closed ? fail("more than one root element") : root?.append(e)));
  parser.on("end", () => (closed = true));
  parser.on("error", (e) => fail(e.message));
  parser.write(body);
  if (error) throw new Error(`not well-formed XML: ${error}`);
  if (!root || !closed) throw new Error("not well-formed XML: the root element is not closed");
  return root;
}

/** Local name of an element (without its prefix). */
export function localName(e: XmlElement): string {
  const i = e.name.indexOf(":");
  return i < 0 ? e.name : e.name.slice(i + 1);
}

/** Child elements of `e` in namespace `ns` with local name `name` (any prefix). */
export function childrenNs(e: XmlElement, name: string, ns: string): XmlElement[] {
  return e.getChildElements().filter((c) => localName(c) === name && c.getNS() === ns);
}

export function childNs(e: XmlElement, name: string, ns: string): XmlElement | undefined {
  return childrenNs(e, name, ns)[0];
}

/** The `xml:lang` in scope for `e` (XML 1.0 §2.12), or undefined. */
export function langOf(e: XmlElement): string | undefined {
  for (let c: XmlElement | null = e; c; c = c.parent) {
    const lang = c.attrs["xml:lang"];
    if (lang !== undefined) return lang;
  }
  return undefined;
}
