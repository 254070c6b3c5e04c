import { describe, expect, it } from "vitest";
import { configCheckCommand, configSampleCommand, resolveCommand, RESOLVE_USAGE } from "../../../src/cli/index.js";
import { realNetworks } from "../../support/networks.js";

const deps = { networks: realNetworks(), adapterSchemas: [], env: {} };

describe("parley command lines", () => {
  it("config check parses its options and refuses others", async () => {
    const ok = await configCheckCommand(["--mappings", "mappings/domains.example.yaml"], deps);
    expect(ok.exitCode).toBe(0);
    const bad = await configCheckCommand(["--mapings", "x"], deps);
    expect(bad.exitCode).toBe(2);
    expect(bad.lines.at(-1)).toBe("usage: parley config check [--config FILE] [--mappings FILE]");
    const broken = await configCheckCommand(["--mappings", "test/fixtures/mappings/broken.yaml"], deps);
    expect(broken.exitCode).toBe(1);
  });

  it("resolve takes the mappings from --mappings, --config or the built-in config", async () => {
    const viaDefault = await resolveCommand(["alice@chat.example.org"], deps);
    expect(viaDefault.exitCode).toBe(0);
    expect(viaDefault.lines[0]).toBe("alice@chat.example.org");
    const viaConfig = await resolveCommand(["--config", "test/fixtures/config/good.yaml", "alice@chat.example.org"], { ...deps, adapterSchemas: [] });
    expect(viaConfig.exitCode).toBe(1);
    expect(viaConfig.lines).toContain("test/fixtures/config/good.yaml:12: adapters.xmpp: unknown key");
    const broken = await resolveCommand(["--mappings", "test/fixtures/mappings/broken.yaml", "alice@chat.example.org"], deps);
    expect(broken.exitCode).toBe(1);
    expect(broken.lines).toHaveLength(21);
  });

  it("resolve refuses wrong usage with exit 2", async () => {
    for (const args of [[], ["a@b.example", "c@d.example"], ["--on", "xmpp", "--home", "xmpp", "a@b.example"], ["--bogus", "a@b.example"]]) {
      const out = await resolveCommand(args, deps);
      expect(out.exitCode, args.join(" ")).toBe(2);
      expect(out.lines.at(-1)).toBe(RESOLVE_USAGE);
    }
  });

  it("config sample prints the generated sample", () => {
    const out = configSampleCommand(deps);
    expect(out.exitCode).toBe(0);
    expect(out.lines).toContain("  keyPrefix: \"parley:\"");
  });
});
