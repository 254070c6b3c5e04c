import { readdirSync, readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { PresenceSchema, type Presence } from "../../../src/model/presence.js";
import { decodeTupleId, encodeTupleId, priorityToQvalue, qvalueToPriority, serializePidf } from "../../../src/model/pidf.js";
import { parsePidf } from "../../../src/model/pidf-parse.js";
import { ensureXmllint, validateXml } from "../../harness/xmllint/xmllint.js";

const dir = new URL("../../fixtures/presence/", import.meta.url);
const fixtures: Array<[string, Presence]> = readdirSync(dir)
  .filter((f) => f.endsWith(".json"))
  .map((f) => [f, PresenceSchema.parse(JSON.parse(readFileSync(new URL(f, dir), "utf8")))]);

describe("PIDF (RFC 3863 / RFC 4480) for canonical presence (T-3.1.6)", () => {
  beforeAll(() => ensureXmllint(), 300_000);

  it("has presence fixtures to check", () => expect(fixtures.length).toBeGreaterThanOrEqual(4));

  it.each(fixtures)("T-3.1.6 %s serialises to PIDF that xmllint validates against RFC 3863's and RFC 4480's schemas", (_, presence) => {
    const result = validateXml(serializePidf(presence));
    expect(result.output).toMatch(/validates$/);
    expect(result.valid).toBe(true);
  });

  it.each(fixtures)("T-3.1.6 %s survives serialise → parse with every field", (_, presence) => {
    expect(parsePidf(serializePidf(presence))).toEqual(presence);
  });

  it("T-3.1.6 the validator is real: a document breaking the schemas fails", () => {
    const good = serializePidf(fixtures.find(([f]) => f === "rich.json")![1]);
    expect(validateXml(good.replace("<basic>open</basic>", "<basic>busy</basic>")).valid).toBe(false);
    expect(validateXml(good.replace(">idle</rpid:user-input>", ">asleep</rpid:user-input>")).valid).toBe(false);
    expect(validateXml(good.replace(/<timestamp>[^<]+/, "<timestamp>yesterday")).valid).toBe(false);
  });

  it("T-3.1.6 writes RPID activities and user-input, CIPID display name and the XMPP show", () => {
    const doc = serializePidf(fixtures.find(([f]) => f === "rich.json")![1]);
    expect(doc).toContain("<rpid:activities><rpid:busy/></rpid:activities>");
    expect(doc).toContain('<rpid:user-input last-input="2026-12-05T23:50:00.000Z">idle</rpid:user-input>');
    expect(doc).toContain(`<c:display-name>Bob "the builder" Nováček</c:display-name>`);
    expect(doc).toContain('<contact priority="0.522">xmpp:bob@chat.example.org/phone</contact>');
    expect(doc).toContain("In a meeting &lt;until 3&gt; &amp; then lunch");
  });

  it("T-3.1.4 reads a PIDF written elsewhere: RPID activities become show, qvalue the priority, unknown elements extensions", () => {
    const foreign = `<?xml version="1.0"?>
<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model"
  xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid" xmlns:geo="urn:example:geo" entity="pres:eve@sip.example.com">
  <tuple id="sip1"><status><basic>open</basic></status><contact priority="1.0">sip:eve@sip.example.com</contact>
    <timestamp>2026-12-06T01:00:00Z</timestamp></tuple>
  <note xml:lang="fr">Au travail</note>
  <dm:person id="p1"><rpid:activities><rpid:on-the-phone/></rpid:activities></dm:person>
  <geo:where>Prague</geo:where>
</presence>`;
    expect(validateXml(foreign).valid).toBe(true);
    const p = parsePidf(foreign, { network: "sip" });
    expect(p.presentity).toEqual({ address: "eve@sip.example.com", network: "sip" });
    expect(p.tuples[0]).toMatchObject({ id: "sip1", basic: "open", show: "dnd", priority: 127, contact: "sip:eve@sip.example.com" });
    expect(p.person?.note).toEqual({ fr: "Au travail" });
    expect(p.extensions["urn:example:geo"]?.payload).toContain("Prague");
  });

  it("refuses what is not PIDF, with the reason", () => {
    expect(() => parsePidf("<presence xmlns='jabber:client'/>", { network: "x" })).toThrow(/root element/);
    expect(() => parsePidf("<presence xmlns='urn:ietf:params:xml:ns:pidf' entity='pres:a@b.c'><tuple id='x'><status/></tuple></presence>", { network: "x" })).toThrow(/open or closed/);
    expect(() => parsePidf("<!DOCTYPE x [<!ENTITY a 'b'>]><presence/>")).toThrow(/DOCTYPE/);
    expect(() => parsePidf("<presence xmlns='urn:ietf:params:xml:ns:pidf' entity='pres:a@b.c'>")).toThrow(/not well-formed/);
    expect(() => parsePidf("<presence xmlns='urn:ietf:params:xml:ns:pidf' entity='pres:a@b.c'/>")).toThrow(/network/);
  });

  it("tuple ids become xs:ID values and come back unchanged", () => {
    fc.assert(fc.property(fc.string({ unit: "grapheme", minLength: 1, maxLength: 40 }), (id) => {
      const x = encodeTupleId(id);
      expect(x).toMatch(/^[A-Za-z][A-Za-z0-9._-]*$/);
      expect(decodeTupleId(x)).toBe(id);
    }));
  });

  it("every RFC 6121 priority survives the PIDF qvalue", () => {
    for (let p = -128; p <= 127; p++) {
      const q = priorityToQvalue(p);
      expect(q).toMatch(/^(0(\.[0-9]{0,3})?|1(\.0{0,3})?)$/);
      expect(qvalueToPriority(q)).toBe(p);
    }
  });
});
