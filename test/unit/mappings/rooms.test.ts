import { describe, expect, it } from "vitest";
import { parseMappings } from "../../../src/mappings/load.js";
import { resolve } from "../../../src/cli/resolve.js";
import { xmppAdapter } from "../../../adapters/xmpp/index.js";
import { matrixAdapter } from "../../../adapters/matrix/index.js";
import { emailAdapter } from "../../../adapters/email/index.js";

const networks = [xmppAdapter, matrixAdapter, emailAdapter];
const HEAD = `networks:
  xmpp: {}
  matrix: { serverName: matrix.example.org }
  email: {}
`;

describe("linked rooms in the mappings (issue 12)", () => {
  it("a link joins a MUC room, a Matrix alias and a list into one room, found by any form", () => {
    const r = parseMappings(`${HEAD}rooms:
  team:
    xmpp: Team@Conference.Chat.Example.org
    matrix: "#Team:matrix.example.org"
    email: team@lists.example.org
`, "m.yaml", networks);
    if (!r.ok) throw r.error;
    const room = r.mappings.rooms!.byLinkName("team")!;
    expect(room.address).toBe("team@conference.chat.example.org");
    expect(room.home).toBe("xmpp");
    expect([...room.natives.values()].map((n) => n.id)).toEqual(["team@conference.chat.example.org", "#team:matrix.example.org", "team@lists.example.org"]);
    expect(r.mappings.rooms!.find(matrixAdapter.id, "#team:matrix.example.org")?.name).toBe("team");
  });

  it("config check names file, line and key for every bad link", () => {
    const r = parseMappings(`${HEAD}rooms:
  team:
    xmpp: team@conference.chat.example.org/nick
    matrix: "team:matrix.example.org"
  alone:
    xmpp: alone@conference.chat.example.org
  dup:
    xmpp: Team2@conference.chat.example.org
    matrix: "!abc:matrix.example.org"
    home: email
  dup2:
    xmpp: team2@conference.chat.example.org
    matrix: "#other:matrix.example.org"
  "Bad Name":
    irc: "#x"
    xmpp: x@conference.chat.example.org
`, "m.yaml", networks);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.lines()).toEqual([
      'm.yaml:7: rooms.team.xmpp: "team@conference.chat.example.org/nick" has a resource: a MUC room is a bare JID room@service',
      'm.yaml:8: rooms.team.matrix: "team:matrix.example.org" is not a Matrix room id (!id:server, or !<43-character hash> from room version 12) or alias (#alias:server)',
      "m.yaml:9: rooms.alone: a linked room joins at least two networks",
      "m.yaml:14: rooms.dup.home: must name one of this link's networks (xmpp, matrix)",
      'm.yaml:18: rooms."Bad Name": a link name is 1–64 lower-case letters, digits, \'.\', \'_\' or \'-\', starting with a letter or digit',
      'm.yaml:19: rooms."Bad Name".irc: unknown network "irc" (known: xmpp, matrix, email, or home)',
    ]);
  });

  it("a native room may be in one link only", () => {
    const r = parseMappings(`${HEAD}rooms:
  one:
    xmpp: a@conference.chat.example.org
    matrix: "#a:matrix.example.org"
  two:
    xmpp: A@conference.chat.example.org
    email: a@lists.example.org
`, "m.yaml", networks);
    expect(r.ok ? [] : r.error.lines()).toEqual(['m.yaml:9: rooms.two: a native room of this link already belongs to link "one" (line 6); a room can be in one link only']);
  });

  it("parley resolve shows a room's forms by link name or by a native form", () => {
    const r = parseMappings(`${HEAD}rooms:
  team:
    matrix: "#team:matrix.example.org"
    xmpp: team@conference.chat.example.org
`, "m.yaml", networks);
    if (!r.ok) throw r.error;
    const byName = resolve("team", { mappings: r.mappings, networks });
    expect(byName.lines).toEqual([
      'team@matrix.example.org   (linked room "team", m.yaml:6)',
      "  home        matrix",
      "  bridged as",
      "    matrix  #team:matrix.example.org   (home)",
      "    xmpp    team@conference.chat.example.org",
      "  delivery    one copy per bridged room (1 per message), in the room's order",
    ]);
    expect(resolve("Team@conference.chat.example.org", { mappings: r.mappings, networks, on: "xmpp" }).lines[0]).toContain('linked room "team"');
  });

  it("a room version 12 id (no server part) links, is addressed under networks.matrix serverName, and resolves", () => {
    const V12 = "!31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3ogLM";
    const r = parseMappings(`${HEAD}rooms:
  team:
    matrix: "${V12}"
    xmpp: team@conference.chat.example.org
  old:
    matrix: "!31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3ogLM:other.example.org"
    xmpp: old@conference.chat.example.org
`, "m.yaml", networks);
    if (!r.ok) throw r.error;
    const room = r.mappings.rooms!.byLinkName("team")!;
    expect(room.address).toBe(`${V12}@matrix.example.org`);
    expect(room.natives.get(matrixAdapter.id)?.id).toBe(V12);
    expect(r.mappings.rooms!.find(matrixAdapter.id, V12)?.name).toBe("team");
    expect(r.mappings.rooms!.byLinkName("old")!.address).toBe(`${V12}@other.example.org`);
    expect(resolve(` ${V12} `, { mappings: r.mappings, networks, on: "matrix" }).lines[0]).toBe(`${V12}@matrix.example.org   (linked room "team", m.yaml:6)`);
  });

  it("a room version 12 id must be exactly 43 url-safe base64 characters", () => {
    const V12 = "!31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3ogLM";
    const r = parseMappings(`${HEAD}rooms:
  short:
    matrix: "${V12.slice(0, -1)}"
    xmpp: a@conference.chat.example.org
  padded:
    matrix: "${V12}="
    xmpp: b@conference.chat.example.org
  slash:
    matrix: "${V12.replace("_", "/")}"
    xmpp: c@conference.chat.example.org
`, "m.yaml", networks);
    expect(r.ok ? [] : r.error.lines().map((l) => l.replace(/ is not a Matrix room id.*/, ""))).toEqual([
      `m.yaml:7: rooms.short.matrix: "${V12.slice(0, -1)}"`,
      `m.yaml:10: rooms.padded.matrix: "${V12}="`,
      `m.yaml:13: rooms.slash.matrix: "${V12.replace("_", "/")}"`,
    ]);
  });
});
