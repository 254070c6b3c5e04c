import { readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { configurationMarkdown, sampleConfig } from "../../../src/config/sample.js";
import { parseConfig } from "../../../src/config/load.js";
import { envName } from "../../../src/config/env.js";
import { adapterFactories } from "../../../adapters/index.js";
import { z } from "zod";
import { descriptionOf, objectShape } from "../../../src/config/introspect.js";
import { gatewayConfigSchema } from "../../../src/config/schema.js";
import { adapterConfigTable, withConfigTable } from "../../../src/config/readme-table.js";

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

/** Every key path below `shape` whose schema has no `.describe()` text. */
function undescribed(shape: Readonly<Record<string, z.ZodType>>, path: readonly string[] = []): string[] {
  return Object.entries(shape).flatMap(([key, schema]) => {
    const here = [...path, key];
    const child = objectShape(schema);
    return [...(descriptionOf(schema) ? [] : [here.join(".")]), ...(child ? undescribed(child, here) : [])];
  });
}

describe("config key descriptions", () => {
  it("every key of the core's config and of each adapter's section has a description", () => {
    expect(undescribed(objectShape(gatewayConfigSchema(adapterFactories))!)).toEqual([]);
  });

  it("finds a key without one", () => {
    expect(undescribed({ a: z.object({ b: z.string().describe("b"), c: z.number() }).describe("a") })).toEqual(["a.c"]);
  });
});

describe("adapter README config tables", () => {
  for (const f of adapterFactories) {
    it(`${f.docs.readme} has the config table of adapters.${f.id}, generated from its schema (PARLEY_UPDATE_DOCS=1 regenerates it)`, () => {
      const readme = readFileSync(f.docs.readme, "utf8");
      const want = withConfigTable(readme, adapterConfigTable(f.id, f.configSchema));
      expect(want, "the README has no config table markers").toBeDefined();
      if (process.env.PARLEY_UPDATE_DOCS === "1") writeFileSync(f.docs.readme, want!);
      expect(readme).toBe(want);
    });
  }
});
