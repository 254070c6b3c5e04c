import { describe, expect, it } from "vitest";
import { z } from "zod";
import { asNetworkId } from "../../../src/model/address.js";
import { configCheck } from "../../../src/cli/index.js";
import { realNetworks } from "../../support/networks.js";

const adapterSchemas = [
  { id: asNetworkId("xmpp"), configSchema: z.strictObject({ password: z.string().optional() }) },
  { id: asNetworkId("matrix"), configSchema: z.strictObject({}) },
  { id: asNetworkId("email"), configSchema: z.strictObject({}) },
];

describe("parley config check", () => {
  it("passes the built-in config with each example mappings file (exit 0)", async () => {
    const networks = realNetworks();
    for (const mappingsPath of [undefined, "mappings/domains.example.yaml", "mappings/two-companies.example.yaml"]) {
      const out = await configCheck({ mappingsPath, networks, adapterSchemas });
      expect(out.exitCode, out.lines.join("\n")).toBe(0);
      expect(out.lines[0]).toBe("built-in default config: ok (adapters: none)");
      expect(out.lines[1]).toMatch(/^mappings\/(domains|two-companies)\.example\.yaml: ok \(3 networks, 3 listed domains\)$/);
      expect(out.lines).toContain('warning: the mappings configure network "xmpp" but the config has no adapters.xmpp section: it will not be started');
    }
  });

  it("passes a config file naming its mappings, with adapter sections", async () => {
    const out = await configCheck({
      configPath: "test/fixtures/config/good.yaml", networks: realNetworks(),
      adapterSchemas: adapterSchemas.map((a) => (a.id === "matrix" ? { ...a, configSchema: z.object({}).loose() } : a)),
    });
    expect(out.lines).toEqual([
      "test/fixtures/config/good.yaml: ok (adapters: xmpp, matrix)",
      `${process.cwd()}/mappings/domains.example.yaml: ok (3 networks, 3 listed domains)`,
      'warning: the mappings configure network "email" but the config has no adapters.email section: it will not be started',
    ]);
    expect(out.exitCode).toBe(0);
  });

  it("fails with every problem of both files as file:line: key: message", async () => {
    const out = await configCheck({
      configPath: "test/fixtures/config/broken.yaml", mappingsPath: "test/fixtures/mappings/broken.yaml", networks: realNetworks(), adapterSchemas,
    });
    expect(out.exitCode).toBe(1);
    expect(out.lines.filter((l) => l.startsWith("test/fixtures/config/broken.yaml:"))).toHaveLength(11);
    expect(out.lines.filter((l) => l.startsWith("test/fixtures/mappings/broken.yaml:"))).toHaveLength(21);
    // A missing serverName must not hide the misspelt botLocalPart beside it (the real Matrix schema strips unknown keys).
    expect(out.lines).toContain("test/fixtures/mappings/broken.yaml:9: networks.matrix.serverName: is required");
    expect(out.lines).toContain("test/fixtures/mappings/broken.yaml:11: networks.matrix.botLocalPart: unknown key");
    expect(out.lines).toContain('test/fixtures/mappings/broken.yaml:18: domains."typo.example.org".home: unknown network "xmp" (known: xmpp, matrix, email)');
    expect(out.lines).toContain("test/fixtures/config/broken.yaml:4: redis.url: must be a redis:// or rediss:// URL");
    expect(out.lines.at(-1)).toBe("32 problems found");
  });

  it("names the environment variable of a bad override", async () => {
    const out = await configCheck({ networks: realNetworks(), adapterSchemas, env: { PARLEY_DELIVERY__CONCURRENCY: "lots" } });
    expect(out.exitCode).toBe(1);
    expect(out.lines).toEqual([
      'environment variable PARLEY_DELIVERY__CONCURRENCY: delivery.concurrency: "lots" is not a number',
      "mappings not checked: the config is invalid and no --mappings file was given",
      "1 problem found",
    ]);
  });
});
