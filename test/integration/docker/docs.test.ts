/**
 * The worked examples of the admin docs are real (issue 7): every `$ parley resolve …` block in
 * docs/deployment.md and docs/security.md prints what the doc shows (the same check
 * test/unit/cli/docs.test.ts makes for docs/mappings.md), and every example mappings file —
 * mappings/*.yaml and the demo's — passes `parley config check`.
 */
import { readdirSync, readFileSync, writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { adapterFactories } from "../../../adapters/index.js";
import { configCheckCommand, resolveCommand } from "../../../src/cli/index.js";
import { demoMappingsYaml } from "../../../scripts/demo/files.js";

const deps = { networks: adapterFactories.map((f) => ({ id: f.id, addressing: f.addressing })), adapterSchemas: adapterFactories, env: {} };
const BLOCK = /```text\n\s*(\$ parley resolve [^\n]*)\n([\s\S]*?)```/g;
const tmp = mkdtempSync(join(tmpdir(), "parley-docs-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("admin docs' worked examples", () => {
  it.each(["docs/deployment.md", "docs/security.md"])("every parley resolve in %s prints what it shows", async (doc) => {
    for (const [, command, shown] of readFileSync(doc, "utf8").matchAll(BLOCK)) {
      const args = [...command!.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]!).slice(3);
      const out = await resolveCommand(args, deps);
      expect(out.exitCode, command).toBe(0);
      // Blocks may be indented inside a list item: compare without the indentation.
      expect(shown!.trimEnd().split("\n").map((l) => l.replace(/^ {3}/, "")), command).toEqual(out.lines);
    }
  });

  it("the deployment guide shows at least one real resolve", () => {
    expect([...readFileSync("docs/deployment.md", "utf8").matchAll(BLOCK)].length).toBeGreaterThanOrEqual(1);
  });

  it("every example mappings file passes parley config check", async () => {
    const files = readdirSync("mappings").filter((f) => f.endsWith(".yaml")).map((f) => join("mappings", f));
    const demo = join(tmp, "demo-mappings.yaml");
    writeFileSync(demo, demoMappingsYaml());
    expect(files.length).toBeGreaterThanOrEqual(1);
    for (const f of [...files, demo]) {
      const out = await configCheckCommand(["--mappings", f], deps);
      expect(out.exitCode, `${f}:\n${out.lines.join("\n")}`).toBe(0);
    }
  });
});
