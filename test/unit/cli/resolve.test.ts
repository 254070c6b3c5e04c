import { describe, expect, it } from "vitest";
import { resolve } from "../../../src/cli/resolve.js";
import { parseMappings } from "../../../src/mappings/load.js";
import { realNetworks } from "../../support/networks.js";

const networks = realNetworks();

function mappings(yaml: string) {
  const r = parseMappings(yaml, "m.yaml", networks);
  if (!r.ok) throw r.error;
  return r.mappings;
}

const M = mappings(`
networks:
  xmpp:
    federation: { denyDomains: [evil.example], allowDomains: [] }
    sharedDomains: { matrix: matrix.gw.example.org }
  matrix:
    serverName: matrix.example.org
    enabled: false
domains:
  chat.example.org:
    home: xmpp
    denyPeers: [rival.example]
  matrix.example.org:
    home: matrix
`);

describe("parley resolve", () => {
  it("explains each refusal in the mappings file's terms", () => {
    const out = resolve("alice@chat.example.org", { mappings: M, networks, from: "x@evil.example", fromOn: "xmpp" });
    expect(out.exitCode).toBe(0);
    expect(out.lines.at(-1)).toBe("    from x@evil.example (xmpp)  →  PARLEY_REFUSED: evil.example is in networks.xmpp.federation.denyDomains");
    const peer = resolve("alice@chat.example.org", { mappings: M, networks, from: "x@rival.example", fromOn: "xmpp" });
    expect(peer.lines.at(-1)).toBe('    from x@rival.example (xmpp)  →  PARLEY_REFUSED: rival.example is in domains."chat.example.org".denyPeers');
  });

  it("shows a switched-off network", () => {
    const out = resolve("bob@matrix.example.org", { mappings: M, networks });
    expect(out.lines[1]).toBe("  home        matrix (network DISABLED), listed domain matrix.example.org");
    expect(out.lines).toContain("    from chat.example.org (xmpp)  →  PARLEY_DISABLED: the matrix network is switched off");
  });

  it("says when an address has no form on a network", () => {
    const out = resolve("dave@example.net", { mappings: M, networks, home: "matrix" });
    expect(out.lines).toContain("    matrix  @dave:example.net   (home)");
    const bare = mappings("networks: { xmpp: {}, matrix: { serverName: m.example } }\ndomains: { m.example: { home: matrix } }");
    const noForm = resolve("bob@m.example", { mappings: bare, networks });
    expect(noForm.lines).toContain("    xmpp    (none: no XMPP form for matrix users (networks.xmpp.sharedDomains.matrix))");
  });

  it("exits 2 on wrong usage and 1 on an address that does not resolve", () => {
    expect(resolve("nobody", { mappings: M, networks })).toEqual({ exitCode: 2, lines: ['parley resolve: "nobody" is not an address of the form local@domain'] });
    expect(resolve("x@unlisted.example", { mappings: M, networks }).exitCode).toBe(2);
    expect(resolve("x@unlisted.example", { mappings: M, networks, home: "irc" })).toEqual({ exitCode: 2, lines: ['parley resolve: unknown network "irc" (known: xmpp, matrix, email)'] });
    expect(resolve("bob@chat.example.org", { mappings: M, networks, home: "matrix" }).lines).toEqual(["parley resolve: chat.example.org is listed with home xmpp, not matrix"]);
    const bad = resolve("bob@example.net", { mappings: mappings("networks: { xmpp: {} }"), networks, on: "xmpp", from: "a@b.example" });
    expect(bad.exitCode).toBe(2);
  });
});
