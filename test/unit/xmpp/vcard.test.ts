/** vcard-temp for puppets (adapters/xmpp/vcard.ts): contact URIs of every kind (RFC 2779 3.1.3, 4.1.4). */
import { describe, expect, it } from "vitest";
import { vcardOf } from "../../../adapters/xmpp/vcard.js";
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
