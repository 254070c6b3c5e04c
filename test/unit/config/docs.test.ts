import { readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { configurationMarkdown, sampleConfig } from "../../../src/config/sample.js";
import { parseConfig } from "../../../src/config/load.js";
import { envName } from "../../../src/config/env.js";
import { adapterFactories } from "../../../adapters/index.js";

const DOC = "docs/configuration.md";

describe("generated config documentation", () => {
  it("docs/configuration.md is up to date with the schema (PARLEY_UPDATE_DOCS=1 regenerates it)", () => {
    const want = configurationMarkdown(adapterFactories);
    if (process.env.PARLEY_UPDATE_DOCS === "1") writeFileSync(DOC, want);
    expect(readFileSync(DOC, "utf8")).toBe(want);
  });

  it("the sample is valid YAML that loads once the admin token is set", () => {
    const sample = sampleConfig();
    expect(() => parse(sample) as unknown).not.toThrow();
    const r = parseConfig(sample, "sample.yaml", { adapters: [], env: { PARLEY_ADMIN__TOKEN: "0123456789abcdef0123" } });
    expect(r.ok ? [] : r.error.lines()).toEqual([]);
  });

  it("documents every key with its description and environment variable", () => {
    const sample = sampleConfig();
    for (const path of [["redis", "url"], ["redis", "keyPrefix"], ["admin", "tokenFile"], ["delivery", "backoffCapMs"], ["presence", "livenessTimeoutMs"], ["log", "level"], ["mappings"]]) {
      expect(sample).toContain(`# env: ${envName(path)}`);
    }
    expect(sample).toContain("# Redis URL (redis:// or rediss:// for TLS");
  });
});
