/** Matrix addressing: pure, reversible, injective (RFC 2779 T-2.1.4, T-3.1.2). */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { escapeLocal, fromNative, isOwnUser, toNative, unescapeLocal } from "../../../adapters/matrix/address.js";
import { userNamespaces, writeRegistration } from "../../../adapters/matrix/registration.js";
import { endpoint, type Endpoint } from "../../../src/model/address.js";
import { isParleyError } from "../../../src/errors/parley-error.js";
import { testMappings } from "../../support/mappings.js";

const mappings = testMappings({
  networks: {
    xmpp: {}, email: {},
    matrix: { settings: { serverName: "matrix.example.org", puppetPrefix: "_parley_", botLocalpart: "parley" } },
  },
  domains: {
    "chat.example.org": { home: "xmpp", appearsOn: { matrix: { prefix: "_chat_" } } },
    "matrix.example.org": { home: "matrix" },
    "example.org": { home: "email" },
  },
});

const localChar = fc.oneof(
  fc.constantFrom(..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._=-+/!#$%&'*?^`{|}~@\"\\"),
  fc.string({ unit: "grapheme", minLength: 1, maxLength: 1 }),
);
const local = fc.array(localChar, { minLength: 1, maxLength: 24 }).map((a) => a.join("")).filter((s) => !/[\s\p{Cc}]/u.test(s));
const domain = fc.constantFrom("chat.example.org", "example.org", "jabber.org", "mail.example.net", "xn--bcher-kva.example");
const foreign: fc.Arbitrary<Endpoint> = fc.record({ local, domain, network: fc.constantFrom("xmpp", "email") })
  .filter((r) => !(r.domain === "chat.example.org" && r.network !== "xmpp") && !(r.domain === "example.org" && r.network !== "email"))
  .map((r) => endpoint(`${r.local}@${r.domain}`, r.network));

describe("Matrix addressing", () => {
  it("T-2.1.4 escaping is reversible, injective and lower case", () => {
    fc.assert(fc.property(fc.string({ unit: "grapheme", maxLength: 40 }), (s) => {
      const e = escapeLocal(s);
      expect(e).toMatch(/^[a-z0-9.=\-/+]*$/);
      expect(unescapeLocal(e)).toBe(s);
    }));
    fc.assert(fc.property(fc.string({ unit: "grapheme" }), fc.string({ unit: "grapheme" }), (a, b) => {
      if (a !== b) expect(escapeLocal(a)).not.toBe(escapeLocal(b));
    }));
  });

  it("T-2.1.4 a foreign endpoint maps to one puppet id and back", () => {
    fc.assert(fc.property(foreign, (who) => {
      const native = toNative(who, mappings);
      expect(Buffer.byteLength(native)).toBeLessThanOrEqual(255);
      expect(native).toMatch(/^@[a-z0-9._=\-/+]+:matrix\.example\.org$/);
      expect(isOwnUser(native, mappings)).toBe(true);
      expect(fromNative(native, mappings)).toEqual(who);
    }));
  });

  it("T-2.1.4 uses the shared form and the domain's own prefix as the mappings say", () => {
    expect(toNative(endpoint("alice@chat.example.org", "xmpp"), mappings)).toBe("@_chat_alice:matrix.example.org");
    expect(toNative(endpoint("x@jabber.org", "xmpp"), mappings)).toBe("@_parley_xmpp_x=40jabber.org:matrix.example.org");
    expect(toNative(endpoint("carol@example.org", "email"), mappings)).toBe("@_parley_email_carol=40example.org:matrix.example.org");
    expect(toNative(endpoint("Bob_X@jabber.org", "xmpp"), mappings)).toBe("@_parley_xmpp_=42ob=5f=58=40jabber.org:matrix.example.org");
  });

  it("T-3.1.2 a Matrix user is their own id; distinct ids stay distinct", () => {
    const bob = endpoint("bob@matrix.example.org", "matrix");
    expect(toNative(bob, mappings)).toBe("@bob:matrix.example.org");
    expect(fromNative("@bob:matrix.example.org", mappings)).toEqual(bob);
    expect(fromNative("@eve:other.example", mappings)).toEqual(endpoint("eve@other.example", "matrix"));
    expect(fromNative("@Bob:matrix.example.org", mappings)).not.toEqual(bob);
    expect(isOwnUser("@bob:matrix.example.org", mappings)).toBe(false);
  });

  it("refuses non-canonical, malformed and foreign-home ids", () => {
    const refused = (native: string, code: "PARLEY_ADDRESS_INVALID" | "PARLEY_ADDRESS_UNKNOWN") => {
      try {
        fromNative(native, mappings);
        expect.unreachable(native);
      } catch (e) {
        expect(isParleyError(e, code), `${native}: ${String(e)}`).toBe(true);
      }
    };
    refused("@_parley_xmpp_=61lice=40jabber.org:matrix.example.org", "PARLEY_ADDRESS_INVALID");
    refused("@_parley_xmpp_alice=40chat.example.org:matrix.example.org", "PARLEY_ADDRESS_INVALID"); // has its own prefix
    refused("@_parley_matrix_x=40y.org:matrix.example.org", "PARLEY_ADDRESS_INVALID");
    refused("@_parley_xmpp_ALICE:matrix.example.org", "PARLEY_ADDRESS_INVALID");
    refused("bob:matrix.example.org", "PARLEY_ADDRESS_INVALID");
    refused("@parley:matrix.example.org", "PARLEY_ADDRESS_UNKNOWN");
    refused("@alice:chat.example.org", "PARLEY_ADDRESS_UNKNOWN");
    refused("@_parley_sms_x=40y.org:matrix.example.org", "PARLEY_ADDRESS_UNKNOWN"); // no such network
    expect(() => toNative(endpoint(`${"a".repeat(240)}@jabber.org`, "xmpp"), mappings)).toThrow(/255 bytes/);
  });

  it("writes a registration with an exclusive namespace covering every puppet and the bot", () => {
    const r = writeRegistration({ id: "parley", url: "http://127.0.0.1:9993", mappings });
    expect(r.registration.rate_limited).toBe(false);
    expect(r.registration.receive_ephemeral).toBe(true);
    expect(r.asToken).not.toBe(r.hsToken);
    expect(r.yaml).toContain("sender_localpart: parley");
    const regexes = userNamespaces(mappings).map((n) => new RegExp(`^${n.regex}$`));
    fc.assert(fc.property(foreign, (who) => {
      expect(regexes.some((re) => re.test(toNative(who, mappings)))).toBe(true);
    }));
    expect(regexes.some((re) => re.test("@parley:matrix.example.org"))).toBe(true);
    expect(regexes.some((re) => re.test("@bob:matrix.example.org"))).toBe(false);
  });
});
