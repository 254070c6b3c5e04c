/** Email addressing (adapters/email/address.ts): RFC 2779 T-2.1.4 (pure, injective, reversible). */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { SharedDomainsSchema } from "../../../src/mappings/schema.js";
import { emailAddressing, escapeLocal, unescapeLocal, EmailAppearanceSchema } from "../../../adapters/email/address.js";
import { endpoint, type Endpoint } from "../../../src/model/address.js";
import { testMappings } from "../../support/mappings.js";
import { isParleyError } from "../../../src/errors/parley-error.js";

const mappings = testMappings({
  networks: {
    xmpp: {}, matrix: {},
    email: { settings: { sharedDomains: { xmpp: "xmpp.gw.example.org", matrix: "matrix.gw.example.org" } } },
  },
  domains: {
    "chat.example.org": { home: "xmpp", appearsOn: { email: { mailDomain: "chat.example.org" } } },
    "im.example.net": { home: "xmpp", appearsOn: { email: { mailDomain: "im-mail.example.net" } } },
    "matrix.example.org": { home: "matrix" },
    "example.org": { home: "email" },
  },
});
const { toNative, fromNative } = emailAddressing;

const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?$/);
const domain = fc.array(label, { minLength: 1, maxLength: 3 }).map((ls) => [...ls, "test"].join("."));
// Canonical local parts: anything without white space or control characters, as src/model/address.ts allows.
const local = fc.string({ unit: "grapheme", minLength: 1, maxLength: 20 })
  .filter((s) => !/[\s\p{Cc}]/u.test(s) && Buffer.byteLength(s) <= 60);
const foreign: fc.Arbitrary<Endpoint> = fc.tuple(local, fc.oneof(domain, fc.constantFrom("chat.example.org", "im.example.net", "matrix.example.org")), fc.constantFrom("xmpp", "matrix"))
  .filter(([, d, n]) => !(d === "chat.example.org" && n === "matrix") && !(d === "im.example.net" && n === "matrix") && !(d === "matrix.example.org" && n === "xmpp"))
  .map(([l, d, n]) => endpoint(`${l}@${d}`, n));
const mailbox: fc.Arbitrary<Endpoint> = fc.tuple(fc.stringMatching(/^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]{1,20}$/), domain)
  .map(([l, d]) => endpoint(`${l}@${d}`, "email"));

describe("email addressing", () => {
  it("T-2.1.4 examples: own domain, appearance domain, shared form, mailbox", () => {
    expect(toNative(endpoint("alice@chat.example.org", "xmpp"), mappings)).toBe("alice@chat.example.org");
    expect(toNative(endpoint("alice@im.example.net", "xmpp"), mappings)).toBe("alice@im-mail.example.net");
    expect(toNative(endpoint("bob@matrix.example.org", "matrix"), mappings)).toBe("bob=matrix.example.org@matrix.gw.example.org");
    expect(toNative(endpoint("x@jabber.test", "xmpp"), mappings)).toBe("x=jabber.test@xmpp.gw.example.org");
    expect(toNative(endpoint("a=b c@jabber.test".replace(" ", "\u00e9"), "xmpp"), mappings)).toBe("a=3db=c3=a9c=jabber.test@xmpp.gw.example.org");
    expect(toNative(endpoint("carol@example.org", "email"), mappings)).toBe("carol@example.org");
    expect(fromNative("Carol@Example.ORG", mappings)).toEqual(endpoint("Carol@example.org", "email"));
    expect(fromNative("<x=jabber.test@XMPP.gw.example.org>", mappings)).toEqual(endpoint("x@jabber.test", "xmpp"));
  });

  it("T-2.1.4 escaping is reversible and yields RFC 5321 dot-strings", () => {
    fc.assert(fc.property(local, (l) => {
      const e = escapeLocal(l);
      expect(e).toMatch(/^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+(\.[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+)*$/);
      expect(unescapeLocal(e)).toBe(l);
    }), { numRuns: 500 });
  });

  it("T-2.1.4 fromNative(toNative(e)) = e for foreign users and mailboxes", () => {
    fc.assert(fc.property(fc.oneof(foreign, mailbox), (who) => {
      expect(fromNative(toNative(who, mappings), mappings)).toEqual(who);
    }), { numRuns: 1000 });
  });

  it("T-2.1.4 toNative is injective", () => {
    fc.assert(fc.property(foreign, foreign, (a, b) => {
      if (a.address !== b.address || a.network !== b.network) expect(toNative(a, mappings)).not.toBe(toNative(b, mappings));
    }), { numRuns: 1000 });
  });

  it("refuses what has no email form or no valid escape", () => {
    const noShared = testMappings({ networks: { email: {} }, domains: {} });
    expect(() => toNative(endpoint("x@jabber.test", "xmpp"), noShared)).toThrow(/sharedDomains/);
    for (const bad of ["nolocal@xmpp.gw.example.org", "x=zz=jabber.test@xmpp.gw.example.org", "a=ff=jabber.test@xmpp.gw.example.org", "not-an-address", "x@matrix.example.org"]) {
      let err: unknown;
      try { fromNative(bad, mappings); } catch (e) { err = e; }
      expect(isParleyError(err), bad).toBe(true);
    }
  });

  it("validates the email network settings and appearance sections", () => {
    expect(SharedDomainsSchema.parse({ xmpp: "XMPP.gw.example.org." }).xmpp).toBe("xmpp.gw.example.org");
    expect(EmailAppearanceSchema.safeParse({ mailDomain: "bad_domain" }).success).toBe(false);
    expect(EmailAppearanceSchema.safeParse({}).success).toBe(false);
  });
});
