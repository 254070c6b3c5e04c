/** The byte cap and XML restrictions before the parser (RFC 6120 §11.1, §13.12; STACK.md "XML parsing"). */
import { describe, expect, it } from "vitest";
import { StanzaGuard, type GuardEvent } from "../../../adapters/xmpp/bounds.js";

const HEADER = "<?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:component:accept' from='c.test' id='x1'>";

function feed(input: string, max = 1024, chunk = 7): GuardEvent[] {
  const g = new StanzaGuard(max);
  const out: GuardEvent[] = [];
  const bytes = Buffer.from(input);
  for (let i = 0; i < bytes.length; i += chunk) out.push(...g.push(bytes.subarray(i, i + chunk)));
  return out;
}

const kinds = (ev: GuardEvent[]) => ev.map((e) => (e.kind === "reject" ? `reject:${e.reason}` : e.kind === "pass" ? "pass" : "fatal"));

describe("StanzaGuard", () => {
  it("passes the header, whole stanzas in one piece, and the stream end", () => {
    const s1 = "<message from='a@b/c' to='x@c.test'><body>h&amp;i é 🌀</body></message>";
    const ev = feed(`${HEADER}<handshake/>\n ${s1}</stream:stream>`);
    expect(kinds(ev)).toEqual(["pass", "pass", "pass", "pass"]);
    expect(ev[2]).toEqual({ kind: "pass", text: s1 });
  });

  it("T-2.5.1 refuses a stanza over the cap, skips it, and keeps the stream going", () => {
    const big = `<message from='a@b/c' to='x@c.test' id='m1'><body>${"x".repeat(5000)}</body></message>`;
    const ev = feed(`${HEADER}${big}<iq id='after'/>`, 1024, 100);
    expect(kinds(ev)).toEqual(["pass", "reject:too-large", "pass"]);
    const r = ev[1]!;
    expect(r.kind === "reject" && r.head).toEqual({ name: "message", attrs: { from: "a@b/c", to: "x@c.test", id: "m1" } });
  });

  it("refuses comments, PIs, DOCTYPE, CDATA and entity references inside stanzas", () => {
    for (const inner of ["<!-- c -->", "<?pi x?>", "<![CDATA[x]]>", "&ent;", "&#x41;"]) {
      const ev = feed(`${HEADER}<message id='m'><body>a${inner}b</body></message><iq/>`);
      expect(kinds(ev), inner).toEqual(inner === "&#x41;" ? ["pass", "pass", "pass"] : ["pass", "reject:restricted-xml", "pass"]);
    }
    const ev = feed(`${HEADER}<!DOCTYPE x [<!ENTITY a "b">]><iq/>`);
    expect(kinds(ev)).toEqual(["pass", "reject:restricted-xml", "pass"]);
  });

  it("refuses mismatched tags and < in attributes, then resynchronises", () => {
    expect(kinds(feed(`${HEADER}<message><body>x</bodyy></message><iq/>`))).toEqual(["pass", "reject:malformed", "pass"]);
    expect(kinds(feed(`${HEADER}<message a='<'><body/></message><iq/>`))).toEqual(["pass", "reject:malformed", "pass"]);
    expect(kinds(feed(`${HEADER}junk<iq/>`))).toEqual(["pass", "reject:malformed", "pass"]);
    expect(kinds(feed(`${HEADER}<message a="<"><body>${"<a>".repeat(2000)}<iq/>`))).toEqual(["pass", "fatal"]);
  });

  it("is linear: 4 MiB in 1 KiB reads costs well under a second", () => {
    const g = new StanzaGuard(8 * 1024 * 1024);
    g.push(HEADER);
    const body = Buffer.from(`<message><body>${"y".repeat(4 * 1024 * 1024)}</body></message>`);
    const t0 = performance.now();
    let passed = 0;
    for (let i = 0; i < body.length; i += 1024) passed += g.push(body.subarray(i, i + 1024)).length;
    expect(passed).toBe(1);
    expect(performance.now() - t0).toBeLessThan(1500);
  });
});
