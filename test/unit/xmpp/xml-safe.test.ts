/**
 * Issue 11 class 1: every code point class on the way out to XMPP (XML 1.0 §2.2 Char). Each
 * character either passes unchanged or becomes U+FFFD; the serialised stanza then passes the
 * adapter's own inbound XML guard (the same rules Prosody's parser applies).
 */
import { codePointClasses } from "../../support/code-points.js";
import { describe, expect, it } from "vitest";
import { REPLACEMENT, isXmlSafe, xmlSafeElement, xmlSafeText } from "../../../adapters/xmpp/xml-safe.js";
import { StanzaGuard } from "../../../adapters/xmpp/bounds.js";
import { xml } from "../../../adapters/xmpp/connection.js";

const allowed = (cp: number) =>
  cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);

/** The code-point classes (the table beside the XMPP corpus, with what each must become). */
const CODE_POINT_CLASSES = codePointClasses();

describe("T-2.5.1 XML-safe text on the component link", () => {
  it("maps every code point U+0000–U+10FFFF to itself or U+FFFD, by the XML Char production", () => {
    let replaced = 0;
    for (let cp = 0; cp <= 0x10ffff; cp++) {
      const ch = cp >= 0xd800 && cp <= 0xdfff ? String.fromCharCode(cp) : String.fromCodePoint(cp);
      const out = xmlSafeText(ch);
      if (allowed(cp)) {
        if (out !== ch) throw new Error(`U+${cp.toString(16)} changed`);
      } else {
        if (out !== REPLACEMENT) throw new Error(`U+${cp.toString(16)} not replaced`);
        replaced++;
      }
    }
    expect(replaced).toBe(29 + 2048 + 2); // C0 but tab/LF/CR, surrogates, U+FFFE/U+FFFF
  });

  it("keeps surrogate pairs and replaces reversed or split ones", () => {
    expect(xmlSafeText("a\u{1F600}b")).toBe("a\u{1F600}b");
    expect(xmlSafeText("\uDE00\uD83D")).toBe(`${REPLACEMENT}${REPLACEMENT}`);
    expect(xmlSafeText("x\uD83Dy")).toBe(`x${REPLACEMENT}y`);
    expect(isXmlSafe("ok\u202Eok")).toBe(true);
  });

  for (const [name, [lo, hi]] of Object.entries(CODE_POINT_CLASSES)) {
    it(`a stanza carrying ${name} in body, subject and attributes serialises to XML the guard accepts`, () => {
      let text = "";
      for (let cp = lo; cp <= hi; cp++) text += cp >= 0xd800 && cp <= 0xdfff ? String.fromCharCode(cp) : String.fromCodePoint(cp);
      const el = xml("message", { from: "a@c.test", to: "b@d.test", id: "x", "xml:lang": `en${text.slice(0, 3)}` },
        xml("subject", {}, text), xml("body", {}, text), xml("x", { xmlns: "urn:x" }, xml("y", { v: text }, text)));
      xmlSafeElement(el);
      const g = new StanzaGuard(1 << 22);
      const head = "<stream:stream xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:component:accept' id='s'>";
      const events = g.push(Buffer.from(head + el.toString()));
      expect(events.map((e) => e.kind)).toEqual(["pass", "pass"]);
      expect(el.getChildText("body")).toBe(xmlSafeText(text));
    });
  }
});
