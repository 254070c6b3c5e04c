/** Room JIDs of Parley's MUC service for foreign rooms (issue 12, open rooms from XMPP): reversible, one per room, never a puppet's. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseServiceRoomJid, serviceRoomJid } from "../../../adapters/xmpp/muc/service-jid.js";
import { toNative } from "../../../adapters/xmpp/address.js";
import { asNetworkId, endpoint } from "../../../src/model/address.js";
import { testMappings } from "../../support/mappings.js";

const m = testMappings({
  networks: { xmpp: { settings: { sharedDomains: { matrix: "matrix.gw.example.org" } } }, matrix: {} },
  domains: { "chat.example.org": { home: "xmpp" }, "matrix.example.org": { home: "matrix" } },
});
const matrix = asNetworkId("matrix");

describe("room JIDs of Parley's MUC service", () => {
  it("names a Matrix alias or room id at the network's shared domain and reads it back", () => {
    const jid = serviceRoomJid({ network: matrix, id: "#lounge:matrix.example.org" }, m);
    expect(jid).toBe("#lounge\\3amatrix.example.org@matrix.gw.example.org");
    expect(parseServiceRoomJid(jid!, m)).toEqual({ network: "matrix", id: "#lounge:matrix.example.org" });
    expect(parseServiceRoomJid(`${jid!}/alice`, m)).toEqual({ network: "matrix", id: "#lounge:matrix.example.org" });
    const byId = serviceRoomJid({ network: matrix, id: "!AbC:matrix.example.org" }, m)!;
    expect(byId).toBe("!\\41b\\43\\3amatrix.example.org@matrix.gw.example.org");
    expect(parseServiceRoomJid(byId.toUpperCase().replace("@MATRIX.GW.EXAMPLE.ORG", "@matrix.gw.example.org"), m)).toEqual({ network: "matrix", id: "!AbC:matrix.example.org" });
  });

  it("names a room version 12 id (`!` and a 43-character hash, no server part) and reads it back, case kept", () => {
    const v12 = "!31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3ogLM";
    const jid = serviceRoomJid({ network: matrix, id: v12 }, m)!;
    expect(jid).toBe("!31hne\\41px\\4a_1o-63\\44m\\46rpeqnk\\46f\\57ppnz\\57so1\\4av\\483og\\4c\\4d@matrix.gw.example.org");
    expect(parseServiceRoomJid(jid, m)).toEqual({ network: "matrix", id: v12 });
    expect(parseServiceRoomJid(`${jid}/alice`, m)).toEqual({ network: "matrix", id: v12 });
    expect(serviceRoomJid({ network: matrix, id: v12.toLowerCase() }, m)).not.toBe(jid);
    // Not the grammar: 42 or 44 characters, standard base64's '+' and '/', padding.
    for (const bad of [v12.slice(0, -1), `${v12}A`, "!31hneApxJ+1o-63DmFrpeqnkFfWppnzWso1JvH3ogLM", "!31hneApxJ/1o-63DmFrpeqnkFfWppnzWso1JvH3ogL=", "!short"]) {
      expect(serviceRoomJid({ network: matrix, id: bad }, m)).toBeUndefined();
    }
  });

  it("round-trips any room version 12 id", () => {
    const hash = fc.string({ unit: fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), minLength: 43, maxLength: 43 });
    fc.assert(fc.property(hash, (h) => {
      const jid = serviceRoomJid({ network: matrix, id: `!${h}` }, m);
      expect(jid).toBeDefined();
      expect(parseServiceRoomJid(jid!, m)).toEqual({ network: "matrix", id: `!${h}` });
    }));
  });

  it("round-trips any room form", () => {
    const part = fc.string({ unit: "grapheme", minLength: 1, maxLength: 30 }).filter((s) => !/[@\s:]/u.test(s));
    fc.assert(fc.property(fc.constantFrom("#", "!"), part, part, (sigil, name, server) => {
      const id = `${sigil}${name}:${server}`;
      const jid = serviceRoomJid({ network: matrix, id }, m);
      if (jid !== undefined) expect(parseServiceRoomJid(jid, m)).toEqual({ network: "matrix", id });
    }));
  });

  it("never reads a puppet, a user, a non-canonical escape or another domain as a room", () => {
    const puppet = toNative(endpoint("bob@matrix.example.org", "matrix"), m);
    expect(parseServiceRoomJid(puppet, m)).toBeUndefined();
    expect(parseServiceRoomJid("alice@chat.example.org", m)).toBeUndefined();
    expect(parseServiceRoomJid("#lounge\\3Amatrix.example.org@other.example.org", m)).toBeUndefined();
    expect(parseServiceRoomJid("#lounge\\3Xmatrix.example.org@matrix.gw.example.org", m)).toBeUndefined();
    expect(parseServiceRoomJid("#\\6counge\\3amatrix.example.org@matrix.gw.example.org", m)).toBeUndefined();
    expect(parseServiceRoomJid("matrix.gw.example.org", m)).toBeUndefined();
    expect(serviceRoomJid({ network: matrix, id: "bob@matrix.example.org" }, m)).toBeUndefined();
    expect(serviceRoomJid({ network: asNetworkId("email"), id: "#x:y" }, m)).toBeUndefined();
  });
});
