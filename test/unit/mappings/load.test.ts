import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { loadMappingsFile, parseMappings } from "../../../src/mappings/load.js";
import { defaultPolicy } from "../../../src/mappings/schema.js";
import { shapedNetworks } from "./networks.js";

const BROKEN = "test/fixtures/mappings/broken.yaml";
const EXAMPLES = ["mappings/domains.example.yaml", "mappings/two-companies.example.yaml"];

function problems(text: string, file = "m.yaml"): string[] {
  const r = parseMappings(text, file, shapedNetworks());
  return r.ok ? [] : r.error.lines();
}

describe("mappings loader", () => {
  it("loads both examples with zero problems", () => {
    for (const file of EXAMPLES) {
      const r = parseMappings(readFileSync(file, "utf8"), file, shapedNetworks());
      expect(r.ok ? [] : r.error.lines(), file).toEqual([]);
    }
  });

  it("gives the example its shapes: homes, appearances, policies", () => {
    const r = parseMappings(readFileSync(EXAMPLES[0]!, "utf8"), EXAMPLES[0]!, shapedNetworks());
    if (!r.ok) throw r.error;
    const m = r.mappings;
    expect([...m.networks.keys()]).toEqual(["xmpp", "matrix", "email"]);
    expect(m.networks.get("xmpp" as never)?.sharedDomains).toEqual({ matrix: "matrix.gw.example.org", email: "email.gw.example.org" });
    expect(m.networks.get("xmpp" as never)?.federation).toEqual({ inbound: "allow", outbound: "allow", allowDomains: [], denyDomains: [] });
    const chat = m.domains.get("chat.example.org");
    expect(chat?.home).toBe("xmpp");
    expect(Object.fromEntries(chat?.appearsOn ?? [])).toEqual({ email: { mailDomain: "chat.example.org" }, matrix: { prefix: "_chat_" } });
    const line = readFileSync(EXAMPLES[0]!, "utf8").split("\n").indexOf("  chat.example.org:") + 1;
    expect(chat?.source).toEqual({ file: EXAMPLES[0], line });
    expect(m.domains.get("example.org")?.policy.presence).toBe(false);
    expect(m.domains.get("example.org")?.policy.messaging).toBe(true);
    expect(m.defaultPolicy.access.subscribe).toBe("approval");
  });

  it("reports every problem of a broken file at once, each with file, line and key", () => {
    const r = parseMappings(readFileSync(BROKEN, "utf8"), BROKEN, shapedNetworks());
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe("PARLEY_CONFIG_INVALID");
    const f = BROKEN;
    expect(r.error.lines()).toEqual([
      `${f}:4: networks.xmpp.enabled: expected boolean, received string`,
      `${f}:5: networks.xmpp.federation.inbound: must be one of allow, deny`,
      `${f}:5: networks.xmpp.federation.allowDomains[1]: "bad domain" is not a valid domain name`,
      `${f}:7: networks.xmpp.sharedDomains.matrix: "chat.example.org" is a listed domain (line 15); it cannot also be the shared domain for matrix users`,
      `${f}:8: networks.xmpp.sharedDomains.xmpp: a network needs no shared domain for itself`,
      `${f}:9: networks.matrix.serverName: is required`,
      `${f}:11: networks.matrix.botLocalPart: unknown key`,
      `${f}:12: networks.irc: unknown network "irc" (known: xmpp, matrix, email)`,
      `${f}:18: domains."typo.example.org".home: unknown network "xmp" (known: xmpp, matrix, email)`,
      `${f}:22: domains."Matrix.Example.ORG".appearsOn.matrix: a domain cannot have an appearance on its own home network "matrix"`,
      `${f}:23: domains."matrix.example.org.": domain "matrix.example.org" is listed twice (first at line 19)`,
      `${f}:25: domains."-bad-.example.org": domain "-bad-.example.org" has an invalid label "-bad-"`,
      `${f}:28: domains."example.org".home: network "email" is not configured under networks:`,
      `${f}:36: domains."other.example".appearsOn.matrix.prefix: prefix "_p_" on matrix is already the appearance of partner.example (line 32); it cannot also be the appearance of other.example`,
      `${f}:40: domains."third.example".appearsOn.xmpp.componentDomain: "partner.example" is a listed domain (line 29); it cannot also be the appearance of third.example`,
      `${f}:48: domains."fifth.example".appearsOn.xmpp.componentDomain: domain "shared.gw.example" on xmpp is already the appearance of fourth.example (line 44); it cannot also be the appearance of fifth.example`,
      `${f}:51: domains."wrong.example".messaging: expected boolean, received string`,
      `${f}:52: domains."wrong.example".colour: unknown key`,
      `${f}:53: domains."wrong.example".allowPeers[1]: "not a domain" is not a valid domain name`,
      `${f}:56: defaults.acess: unknown key`,
      `${f}:57: extra: unknown key (expected networks, domains, defaults, rooms)`,
    ]);
    expect(r.error.problems.length).toBeGreaterThanOrEqual(10);
    expect(r.error.message).toContain("21 problems");
  });

  it("reports YAML syntax errors with their line", () => {
    expect(problems("networks:\n  xmpp: {}\ndomains:\n  a.example: [1\n  b: 2\n")).toEqual([
      expect.stringMatching(/^m\.yaml:5: YAML syntax: /),
    ]);
  });

  it("reports duplicate keys and still checks the rest", () => {
    const out = problems("networks:\n  xmpp: {}\n  xmpp: {}\ndomains:\n  a.example: { home: matrix }\n");
    expect(out).toEqual([
      "m.yaml:3: duplicate key: keys must be unique",
      'm.yaml:5: domains."a.example".home: network "matrix" is not configured under networks:',
    ]);
  });

  it("treats an empty file as no mappings, and a non-mapping as one problem", () => {
    const r = parseMappings("", "m.yaml", shapedNetworks());
    expect(r.ok && r.mappings.domains.size).toBe(0);
    expect(r.ok && r.mappings.defaultPolicy).toEqual(defaultPolicy());
    expect(problems("- a\n- b\n")).toEqual(["m.yaml:1: must be a mapping of keys to values"]);
  });

  it("uses secure defaults when defaults: is absent, and merges listed domains over defaults:", () => {
    const p = defaultPolicy();
    expect(p).toMatchObject({ enabled: true, messaging: true, presence: true, acceptUnauthenticated: false, allowPeers: [], denyPeers: [] });
    expect(p.access.subscribe).toBe("approval");
    expect(p.access.allowUnauthenticatedSubscribers).toBe(false);
    const r = parseMappings([
      "networks: { xmpp: {} }",
      "defaults: { acceptUnauthenticated: true, access: { defaultVisibility: basic, subscribe: anyone } }",
      "domains:",
      "  a.example: { home: xmpp, access: { subscribe: same-domain }, denyPeers: [Evil.Example] }",
    ].join("\n"), "m.yaml", shapedNetworks());
    if (!r.ok) throw r.error;
    const a = r.mappings.domains.get("a.example")!.policy;
    expect(a.acceptUnauthenticated).toBe(true);
    expect(a.access.subscribe).toBe("same-domain");
    expect(a.access.defaultVisibility).toBe("basic");
    expect(a.denyPeers).toEqual(["evil.example"]);
    expect(r.mappings.defaultPolicy.access.subscribe).toBe("anyone");
  });

  it("normalises listed domains (case, trailing dot, IDNA)", () => {
    const r = parseMappings("networks: { xmpp: {} }\ndomains:\n  Bücher.Example.: { home: xmpp }\n", "m.yaml", shapedNetworks());
    if (!r.ok) throw r.error;
    expect([...r.mappings.domains.keys()]).toEqual(["xn--bcher-kva.example"]);
  });

  it("reports keys an adapter's non-strict schema would silently drop", () => {
    const lax = shapedNetworks().map((n) => ({ ...n, addressing: { ...n.addressing, networkSettingsSchema: z.object({ a: z.string().optional() }) } }));
    const r = parseMappings("networks:\n  xmpp:\n    a: x\n    b: y\n", "m.yaml", lax);
    expect(r.ok ? [] : r.error.lines()).toEqual(["m.yaml:4: networks.xmpp.b: unknown key"]);
  });

  it("names an unreadable file", async () => {
    const r = await loadMappingsFile("/nonexistent/m.yaml", shapedNetworks());
    expect(r.ok ? [] : r.error.lines()).toEqual([expect.stringMatching(/^\/nonexistent\/m\.yaml: cannot read the mappings file: ENOENT/)]);
    const ok = await loadMappingsFile(EXAMPLES[0]!, shapedNetworks());
    expect(ok.ok).toBe(true);
  });
});

describe("mappings loader: small cases", () => {
  it("takes an empty appearsOn: and an empty network section", () => {
    const r = parseMappings("networks:\n  xmpp:\ndomains:\n  a.example:\n    home: xmpp\n    appearsOn:\n", "m.yaml", shapedNetworks());
    expect(r.ok ? [] : r.error.lines()).toEqual([]);
  });

  it("says what an appearsOn entry must be", () => {
    expect(problems("networks: { xmpp: {}, email: {} }\ndomains:\n  a.example:\n    home: xmpp\n    appearsOn:\n      email: yes\n")).toEqual([
      'm.yaml:6: domains."a.example".appearsOn.email: must be a mapping of keys to values',
    ]);
  });
});

describe("mappings loader: prefixes", () => {
  it("refuses a prefix that starts another (ambiguous puppet ids)", () => {
    const out = problems([
      "networks:",
      "  xmpp: {}",
      "  matrix: { serverName: m.example, puppetPrefix: _parley_ }",
      "domains:",
      "  a.example: { home: xmpp, appearsOn: { matrix: { prefix: _parley_xmpp_ } } }",
      "  b.example: { home: xmpp, appearsOn: { matrix: { prefix: _b_ } } }",
      "  c.example: { home: xmpp, appearsOn: { matrix: { prefix: _b_c_ } } }",
    ].join("\n"));
    expect(out).toEqual([
      'm.yaml:5: domains."a.example".appearsOn.matrix.prefix: prefix "_parley_xmpp_" on matrix overlaps prefix "_parley_" of networks.matrix.puppetPrefix (line 3): one starts with the other, so their ids would be ambiguous',
      'm.yaml:7: domains."c.example".appearsOn.matrix.prefix: prefix "_b_c_" on matrix overlaps prefix "_b_" of the appearance of b.example (line 6): one starts with the other, so their ids would be ambiguous',
    ]);
  });
});
