/**
 * The one place where text becomes XML-safe on the way out (issue 11, class 1). XML 1.0 §2.2 allows
 * only `#x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]`; anything else
 * (NUL and the other C0 controls, U+FFFE/U+FFFF, a lone surrogate) makes the server answer
 * `not-well-formed` and close the component stream (RFC 6120 §4.9.3.13), which would cost the link
 * and every stanza behind it. Every stanza passes through {@link xmlSafeElement} just before it is
 * written to the socket (domain-link.ts, DomainLink.send), so no caller can forget it.
 *
 * What is replaced: each character outside the production becomes U+FFFD REPLACEMENT CHARACTER, so
 * the reader sees that something was there. Everything XML allows (C1 controls, noncharacters
 * outside U+FFFE/U+FFFF, private use, bidi controls) passes through unchanged.
 */

/** The part of an xmpp.js element this module touches (kept structural: connection.ts imports us). */
export interface XmlNode {
  attrs: Record<string, string | undefined>;
  children: Array<XmlNode | string>;
}

/** Characters XML 1.0 cannot carry, and lone surrogates (a `u`-flag regex sees pairs as one). */
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

export const REPLACEMENT = "\uFFFD";

export function xmlSafeText(s: string): string {
  return s.replace(NOT_XML_CHAR, REPLACEMENT);
}

export function isXmlSafe(s: string): boolean {
  NOT_XML_CHAR.lastIndex = 0;
  const bad = NOT_XML_CHAR.test(s);
  NOT_XML_CHAR.lastIndex = 0;
  return !bad;
}

/**
 * Make every text child and attribute value of `el` (recursively, iteratively so depth cannot
 * exhaust the stack) XML-safe, in place. Returns how many strings had to be changed.
 */
export function xmlSafeElement(el: XmlNode): number {
  let changed = 0;
  const fix = (s: string): string => {
    if (isXmlSafe(s)) return s;
    changed++;
    return xmlSafeText(s);
  };
  const stack: XmlNode[] = [el];
  while (stack.length > 0) {
    const e = stack.pop()!;
    for (const [k, v] of Object.entries(e.attrs)) if (typeof v === "string") e.attrs[k] = fix(v);
    for (const [i, c] of e.children.entries()) {
      if (typeof c === "string") e.children[i] = fix(c);
      else stack.push(c);
    }
  }
  return changed;
}
