/** Open-room aliases: reversible and injective, only canonical aliases in the namespace parse (issue 12). */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { openRoomAlias, parseOpenRoomAlias } from "../../../adapters/matrix/rooms/open-alias.js";
import { asNetworkId } from "../../../src/model/address.js";

const s = { puppetPrefix: "_parley_", serverName: "matrix.example.org" };
const xmpp = asNetworkId("xmpp");

describe("open-room aliases", () => {
  it("names a MUC room JID in the exclusive namespace and reads it back", () => {
    const alias = openRoomAlias({ network: xmpp, room: "lounge@conference.chat.example.org" }, s);
    expect(alias).toBe("#_parley_xmpp_lounge=40conference.chat.example.org:matrix.example.org");
    expect(parseOpenRoomAlias(alias, s)).toEqual({ network: "xmpp", room: "lounge@conference.chat.example.org" });
  });

  it("round-trips any room address", () => {
    fc.assert(fc.property(fc.string({ unit: "grapheme", minLength: 1, maxLength: 40 }), (room) => {
      expect(parseOpenRoomAlias(openRoomAlias({ network: xmpp, room }, s), s)).toEqual({ network: "xmpp", room });
    }));
  });

  it.each([
    "#lounge:matrix.example.org",
    "#_parley_xmpp_lounge=40conference.chat.example.org:other.example.org",
    "#_parley_xmpp_Lounge=40conference.chat.example.org:matrix.example.org",
    "#_parley_xmpp_=61:matrix.example.org",
    "#_parley__lounge:matrix.example.org",
    "#_parley_xmpp_:matrix.example.org",
    "_parley_xmpp_lounge:matrix.example.org",
  ])("refuses %s", (alias) => {
    expect(parseOpenRoomAlias(alias, s)).toBeUndefined();
  });
});
