/** XMPP addressing properties (RFC 2779 2.1.4; XEP-0106 §4; RFC 7622 §3). */
import { SharedDomainsSchema } from "../../../src/mappings/schema.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  XEP0106_CHARS, componentDomains, escapeLocal, fromNative, sharedFormAllowed, toNative, unescapeLocal, xmppAddressing,
} from "../../../adapters/xmpp/address.js";
import { endpoint, type Endpoint } from "../../../src/model/address.js";
import { isParleyError } from "../../../src/errors/parley-error.js";
import { testMappings } from "../../support/mappings.js";

const mappings = testMappings({
  networks: {
    xmpp: { settings: { sharedDomains: { matrix: "matrix.gw.example.org", email: "email.gw.example.org" } } },
    matrix: { settings: { serverName: "matrix.example.org" } },
    email: { settings: {}, federation: { denyDomains: ["spam.example"] } },
  },
  domains: {
    "chat.example.org": { home: "xmpp" },
    "matrix.example.org": { home: "matrix", appearsOn: { xmpp: { componentDomain: "matrix.example.org" } } },
    "example.org": { home: "email" },
  },
});

// Local parts as canonicalAddress accepts them: no white space or controls.
const local = fc.string({ unit: "binary", minLength: 1, maxLength: 40 })
  // eslint-disable-next-line no-control-regex -- canonical addresses refuse exactly these
  .map((s) => s.replace(/[\s\u0000-\u001f\u007f\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]/g, "x"))
  .filter((s) => s.length > 0 && Buffer.byteLength(s) <= 255);
const withSpecials = fc.array(fc.oneof(fc.constantFrom(...XEP0106_CHARS.filter((c) => c !== " ")), local), { minLength: 1, maxLength: 6 }).map((a) => a.join(""));
const domain = fc.constantFrom("example.net", "matrix.org", "xn--caf-dma.example", "a-b.c0.example");

function foreign(): fc.Arbitrary<Endpoint> {
  return fc.oneof(
    fc.tuple(fc.oneof(local, withSpecials), domain, fc.constantFrom("matrix", "email")).map(([l, d, n]) => endpoint(`${l}@${d}`, n)),
    fc.oneof(local, withSpecials).map((l) => endpoint(`${l}@matrix.example.org`, "matrix")),
    fc.oneof(local, withSpecials).map((l) => endpoint(`${l}@example.org`, "email")),
  );
}

describe("XMPP addressing", () => {
  it("T-2.1.4 maps the agreed forms (team brief)", () => {
    expect(toNative(endpoint("alice@chat.example.org", "xmpp"), mappings)).toBe("alice@chat.example.org");
    expect(toNative(endpoint("bob@matrix.example.org", "matrix"), mappings)).toBe("bob@matrix.example.org");
    expect(toNative(endpoint("carol@example.org", "email"), mappings)).toBe("carol\\40example.org@email.gw.example.org");
    expect(toNative(endpoint("someone@matrix.org", "matrix"), mappings)).toBe("someone\\40matrix.org@matrix.gw.example.org");
    expect(toNative(endpoint("Carol@example.org", "email"), mappings)).toBe("\\43arol\\40example.org@email.gw.example.org");
    expect(toNative(endpoint("d'artagnan&co/x:y<z>@example.net", "email"), mappings))
      .toBe("d\\27artagnan\\26co\\2fx\\3ay\\3cz\\3e\\40example.net@email.gw.example.org");
  });

  it("T-2.1.4 escaping covers the ten XEP-0106 characters and reverses", () => {
    for (const c of XEP0106_CHARS) {
      const e = escapeLocal(`a${c}b`);
      expect(e).not.toContain(c === "\\" ? "\\\\" : c);
      expect(unescapeLocal(e)).toBe(`a${c}b`);
    }
    expect(escapeLocal(XEP0106_CHARS.join(""))).toBe("\\20\\22\\26\\27\\2f\\3a\\3c\\3e\\40\\5c");
  });

  it("T-2.1.4 round trip: fromNative(toNative(e)) = e for every foreign endpoint", () => {
    fc.assert(fc.property(foreign(), (who) => {
      expect(fromNative(toNative(who, mappings), mappings)).toEqual(who);
    }), { numRuns: 500 });
  });

  it("T-2.1.4 round trip for XMPP users in prepared form, and JIDs compare in prepared form", () => {
    fc.assert(fc.property(fc.stringMatching(/^[a-z0-9._-]{1,20}$/), (l) => {
      const who = endpoint(`${l}@chat.example.org`, "xmpp");
      expect(fromNative(toNative(who, mappings), mappings)).toEqual(who);
    }));
    expect(fromNative("ALICE@Chat.Example.org/phone", mappings)).toEqual(endpoint("alice@chat.example.org", "xmpp"));
    expect(fromNative("Bob@MATRIX.example.org", mappings)).toEqual(endpoint("bob@matrix.example.org", "matrix"));
  });

  it("T-2.1.4 injective: distinct endpoints never share a JID", () => {
    fc.assert(fc.property(foreign(), foreign(), (a, b) => {
      fc.pre(a.address !== b.address || a.network !== b.network);
      expect(toNative(a, mappings)).not.toBe(toNative(b, mappings));
    }), { numRuns: 1000 });
    // Case survives although XMPP localparts are case-insensitive (RFC 7622 §3.3).
    expect(toNative(endpoint("Carol@example.net", "email"), mappings)).not.toBe(toNative(endpoint("carol@example.net", "email"), mappings));
  });

  it("T-2.1.4 escaped JIDs are valid localparts: no XEP-0106 character, lower case, within 1023 bytes", () => {
    fc.assert(fc.property(foreign(), (who) => {
      const jid = toNative(who, mappings);
      const l = jid.slice(0, jid.lastIndexOf("@"));
      for (const c of XEP0106_CHARS.filter((x) => x !== "\\")) expect(l).not.toContain(c);
      expect(l.toLowerCase()).toBe(l);
      expect(Buffer.byteLength(l)).toBeLessThanOrEqual(1023);
    }), { numRuns: 300 });
    const longest = endpoint(`${"@".repeat(100)}${"x".repeat(155)}@${"a".repeat(60)}.example`, "email");
    expect(Buffer.byteLength(toNative(longest, mappings))).toBeLessThan(2048);
  });

  it("T-2.1.4 refuses what is not a canonical form: item-not-found material", () => {
    const unknown = (jid: string) => {
      try { fromNative(jid, mappings); return "ok"; } catch (e) { return isParleyError(e) ? e.code : "other"; }
    };
    expect(unknown("carol\\40example.org@matrix.gw.example.org")).toBe("PARLEY_ADDRESS_UNKNOWN"); // email domain under the matrix component
    expect(unknown("bob\\40matrix.example.org@matrix.gw.example.org")).toBe("PARLEY_ADDRESS_UNKNOWN"); // has its own component
    expect(unknown("a\\61@email.gw.example.org")).toBe("PARLEY_ADDRESS_UNKNOWN"); // non-canonical escape
    expect(unknown("plain@example.org")).toBe("PARLEY_ADDRESS_UNKNOWN"); // email domain, no XMPP appearance
    expect(unknown("email.gw.example.org")).toBe("PARLEY_ADDRESS_UNKNOWN");
    expect(unknown("a b@chat.example.org")).toBe("PARLEY_ADDRESS_INVALID");
    expect(unknown("x@bad..domain")).toBe("PARLEY_ADDRESS_INVALID");
  });

  it("T-2.2.1 open federation: unlisted domains follow the foreign network's policy", () => {
    expect(sharedFormAllowed(endpoint("x@matrix.org", "matrix"), mappings)).toBe(true);
    expect(sharedFormAllowed(endpoint("x@spam.example", "email"), mappings)).toBe(false);
    expect(sharedFormAllowed(endpoint("x@example.org", "email"), mappings)).toBe(true);
  });

  it("lists the component domains the mappings need", () => {
    expect(componentDomains(mappings)).toEqual(["email.gw.example.org", "matrix.example.org", "matrix.gw.example.org"]);
    expect(SharedDomainsSchema.safeParse({ matrix: "bad..x" }).success).toBe(false);
    expect(xmppAddressing.appearanceSchema.safeParse({ componentDomain: "Matrix.Example.org" }).success).toBe(true);
  });
});
