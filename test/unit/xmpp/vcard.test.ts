/** vcard-temp for puppets (adapters/xmpp/vcard.ts): contact URIs of every kind (RFC 2779 3.1.3, 4.1.4). */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { profileOfVcard, vcardOf } from "../../../adapters/xmpp/vcard.js";
import { AvatarHashes } from "../../../adapters/xmpp/profile.js";
import { xml } from "../../../adapters/xmpp/connection.js";
import { profileHintOf } from "../../../src/adapter/profiles.js";
import { endpoint } from "../../../src/model/address.js";

const bob = endpoint("bob@matrix.example.org", "matrix");

describe("vcardOf", () => {
  it("T-3.1.3 T-4.1.4 contact URIs become EMAIL, TEL, JABBERID and URL; the avatar becomes PHOTO", () => {
    const v = vcardOf(bob, {
      displayName: "Bob", avatar: { bytes: Buffer.from([1, 2, 3]), contentType: "image/png" },
      contacts: ["mailto:bob@example.org", "tel:+420123456789", "xmpp:bob@chat.example.org", "matrix:u/bob:matrix.example.org"],
    });
    expect(v.getChildText("FN")).toBe("Bob");
    expect(v.getChild("EMAIL")!.getChildText("USERID")).toBe("bob@example.org");
    expect(v.getChild("TEL")!.getChildText("NUMBER")).toBe("+420123456789");
    expect(v.getChildText("JABBERID")).toBe("bob@chat.example.org");
    expect(v.getChildText("URL")).toBe("matrix:u/bob:matrix.example.org");
    expect(v.getChild("PHOTO")!.getChildText("BINVAL")).toBe("AQID");
  });

  it("without a profile the canonical address is the name", () => {
    const v = vcardOf(bob, undefined);
    expect(v.getChildText("FN")).toBe("bob@matrix.example.org");
    expect(v.getChild("PHOTO")).toBeUndefined();
  });
});

describe("profileOfVcard (an XMPP user's vCard read for the other networks)", () => {
  it("T-3.1.3 T-4.1.4 FN, PHOTO and the contact fields become the profile, the user's own xmpp: URI first; vcardOf ∘ profileOfVcard keeps them", () => {
    const v = xml("vCard", { xmlns: "vcard-temp" }, xml("FN", {}, "Alice Liddell"), xml("NICKNAME", {}, "al"),
      xml("PHOTO", {}, xml("TYPE", {}, "image/png"), xml("BINVAL", {}, "AQID\nBA==")),
      xml("EMAIL", {}, xml("USERID", {}, "alice@example.org")), xml("TEL", {}, xml("NUMBER", {}, "+420 123")), xml("URL", {}, "https://alice.example"));
    const p = profileOfVcard(v, "xmpp:alice@chat.example.org", 1024);
    expect(p.displayName).toBe("Alice Liddell");
    expect([...p.avatar!.bytes]).toEqual([1, 2, 3, 4]);
    expect(p.avatar!.contentType).toBe("image/png");
    expect(p.contacts).toEqual(["xmpp:alice@chat.example.org", "mailto:alice@example.org", "tel:+420 123", "https://alice.example"]);
    const back = profileOfVcard(vcardOf(endpoint("alice@chat.example.org", "xmpp"), p), "xmpp:alice@chat.example.org", 1024);
    expect(back).toEqual(p);
  });

  it("NICKNAME when there is no FN; no name, no avatar for an empty vCard; an avatar over the limit is left out; of several photos the one in presence", () => {
    expect(profileOfVcard(xml("vCard", { xmlns: "vcard-temp" }, xml("NICKNAME", {}, "al")), "xmpp:a@b", 10).displayName).toBe("al");
    const empty = profileOfVcard(xml("vCard", { xmlns: "vcard-temp" }), "xmpp:a@b", 10);
    expect(empty).toEqual({ contacts: ["xmpp:a@b"] });
    const big = xml("vCard", { xmlns: "vcard-temp" }, xml("PHOTO", {}, xml("BINVAL", {}, Buffer.alloc(64).toString("base64"))));
    expect(profileOfVcard(big, "xmpp:a@b", 10).avatar).toBeUndefined();
    const two = xml("vCard", { xmlns: "vcard-temp" }, xml("PHOTO", {}, xml("BINVAL", {}, "AQ==")), xml("PHOTO", {}, xml("BINVAL", {}, "Ag==")));
    const sha1Of2 = createHash("sha1").update(Buffer.from([2])).digest("hex");
    expect([...profileOfVcard(two, "xmpp:a@b", 10).avatar!.bytes]).toEqual([1]);
    expect([...profileOfVcard(two, "xmpp:a@b", 10, sha1Of2).avatar!.bytes]).toEqual([2]);
  });
});

describe("AvatarHashes (XEP-0153 in presence → the canonical profile hint)", () => {
  it("T-3.1.4 the avatar hash the server adds to presence becomes the urn:parley:profile:0 extension; a change is news, a repeat is not", () => {
    const h = new AvatarHashes();
    const pres = (photo?: string) => xml("presence", {}, xml("x", { xmlns: "vcard-temp:x:update" }, ...(photo === undefined ? [] : [xml("photo", {}, photo)])));
    expect(h.note("a@b", xml("presence", {}))).toBe(false);
    expect(h.extensionOf("a@b")).toEqual({});
    expect(h.note("a@b", pres("ABC"))).toBe(true);
    expect(profileHintOf(h.extensionOf("a@b"))).toBe("abc");
    expect(h.note("a@b", pres("abc"))).toBe(false);
    expect(h.note("a@b", pres())).toBe(true);
    expect(profileHintOf(h.extensionOf("a@b"))).toBe("");
    expect(h.note("a@b", xml("presence", { type: "unavailable" }, xml("x", { xmlns: "vcard-temp:x:update" }, xml("photo", {}, "def"))))).toBe(false);
  });
});
