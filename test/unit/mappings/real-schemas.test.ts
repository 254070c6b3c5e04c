/** The example mappings pass the real adapters' schemas (each factory's addressing). */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseMappings } from "../../../src/mappings/load.js";
import { realNetworks } from "../../support/networks.js";

const EXAMPLES = ["mappings/domains.example.yaml", "mappings/two-companies.example.yaml"];

describe("examples with the real adapters' schemas", () => {
  it("load with zero problems (xmpp, matrix, email)", async () => {
    const networks = realNetworks();
    const real = networks.map((n) => n.id);
    expect(real.length).toBeGreaterThan(0);
    for (const file of EXAMPLES) {
      const r = parseMappings(readFileSync(file, "utf8"), file, networks);
      expect(r.ok ? [] : r.error.lines(), `${file} with real ${real.join(", ")}`).toEqual([]);
    }
  });

  it("each example's listed users round-trip through every real addressing", async () => {
    const networks = realNetworks();
    const real = networks.map((n) => n.id);
    for (const file of EXAMPLES) {
      const r = parseMappings(readFileSync(file, "utf8"), file, networks);
      if (!r.ok) throw r.error;
      for (const d of r.mappings.domains.values()) {
        const who = { address: `someone@${d.domain}`, network: d.home } as never;
        for (const n of networks.filter((k) => real.includes(k.id))) {
          const native = n.addressing.toNative(who, r.mappings);
          expect(n.addressing.fromNative(native, r.mappings), `${file}: ${d.domain} on ${n.id} (${native})`).toEqual(who);
        }
      }
    }
  });
});

describe("strict keys with the real adapters' schemas", () => {
  it("a misspelt adapter key is an error even where the adapter's schema is loose", async () => {
    const networks = realNetworks();
    const text = [
      "networks:",
      "  xmpp: { sharedDomain: { matrix: m.gw.example } }",
      "  matrix: { serverName: m.example, puppetPrefx: _p_ }",
      "  email: { sharedDomains: {} }",
      "domains:",
      "  a.example: { home: xmpp, appearsOn: { email: { mailDomain: a.example, mailDomian: b.example } } }",
    ].join("\n");
    const r = parseMappings(text, "m.yaml", networks);
    expect(r.ok ? [] : r.error.lines()).toEqual([
      "m.yaml:2: networks.xmpp.sharedDomain: unknown key",
      "m.yaml:3: networks.matrix.puppetPrefx: unknown key",
      'm.yaml:6: domains."a.example".appearsOn.email.mailDomian: unknown key',
    ]);
  });

  it("a misspelt key is reported beside a missing one: every problem at once, with file, line and key", async () => {
    const text = [
      "networks:",
      "  matrix: { botLocalPart: bot }",
      "domains:",
      "  a.example: { home: matrix }",
    ].join("\n");
    const r = parseMappings(text, "m.yaml", realNetworks());
    expect(r.ok ? [] : r.error.lines()).toEqual([
      "m.yaml:2: networks.matrix.serverName: is required",
      "m.yaml:2: networks.matrix.botLocalPart: unknown key",
    ]);
  });
});
