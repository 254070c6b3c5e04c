/**
 * The `parley resolve` examples in docs/mappings.md are real output: each ```text block that
 * starts with `$ parley resolve` is run against the example mappings and compared line by line.
 * PARLEY_UPDATE_DOCS=1 rewrites the blocks from the real output.
 *
 * Addressing: each adapter factory's own. When an adapter changes its forms, this test fails:
 * check the difference, then regenerate.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { KnownNetwork } from "../../../src/mappings/load.js";
import { resolveCommand } from "../../../src/cli/index.js";
import { realNetworks } from "../../support/networks.js";

const DOC = "docs/mappings.md";
const BLOCK = /```text\n(\$ parley resolve [^\n]*)\n([\s\S]*?)```/g;

/** Split a shell command line (single quotes only). */
function argv(line: string): string[] {
  return [...line.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]!);
}

/** Run the documented command line through the same entry `bin/parley.ts` uses. */
async function run(command: string, networks: readonly KnownNetwork[]): Promise<string[]> {
  const out = await resolveCommand(argv(command).slice(3), { networks, adapterSchemas: [], env: {} });
  expect(out.exitCode, command).toBe(0);
  return out.lines.slice();
}

describe("docs/mappings.md examples", () => {
  it("show the real output of parley resolve", async () => {
    const networks = realNetworks();
    const doc = readFileSync(DOC, "utf8");
    const blocks = [...doc.matchAll(BLOCK)];
    expect(blocks.length).toBeGreaterThanOrEqual(4);
    const outputs = new Map<string, string[]>();
    for (const [, command] of blocks) outputs.set(command!, await run(command!, networks));
    if (process.env.PARLEY_UPDATE_DOCS === "1") {
      writeFileSync(DOC, doc.replace(BLOCK, (_all, command: string) => `\`\`\`text\n${command}\n${outputs.get(command)!.join("\n")}\n\`\`\``));
    }
    for (const [, command, shown] of blocks) {
      expect(shown!.trimEnd().split("\n"), command).toEqual(outputs.get(command!));
    }
  });
});
