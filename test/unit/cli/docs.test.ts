/**
 * The `parley resolve` examples in docs/mappings.md are real output: each ```text block that
 * starts with `$ parley resolve` is run against the example mappings and compared line by line.
 * PARLEY_UPDATE_DOCS=1 rewrites the blocks from the real output.
 *
 * Addressing: the real adapters/<net>/address.ts where it exists; until adapters/xmpp/address.ts
 * lands, XMPP uses the XEP-0106 stand-in of test/unit/mappings/networks.ts (the agreed forms). When
 * the real one lands and differs, this test fails: check the difference, then regenerate.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseMappings, type KnownNetwork } from "../../../src/mappings/load.js";
import { resolve } from "../../../src/cli/resolve.js";
import { bestNetworks } from "../mappings/networks.js";

const DOC = "docs/mappings.md";
const BLOCK = /```text\n(\$ parley resolve [^\n]*)\n([\s\S]*?)```/g;

/** Split a shell command line (single quotes only). */
function argv(line: string): string[] {
  return [...line.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]!);
}

function run(command: string, networks: readonly KnownNetwork[]): string[] {
  const args = argv(command).slice(3);
  const opts: Record<string, string> = {};
  let address: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith("--")) opts[a.slice(2)] = args[++i]!;
    else address = a;
  }
  const file = opts.mappings ?? "mappings/domains.example.yaml";
  const m = parseMappings(readFileSync(file, "utf8"), file, networks);
  if (!m.ok) throw m.error;
  const out = resolve(address!, { mappings: m.mappings, networks, on: opts.on, home: opts.home, from: opts.from, fromOn: opts["from-on"] });
  return out.lines.slice();
}

describe("docs/mappings.md examples", () => {
  it("show the real output of parley resolve", async () => {
    const { networks } = await bestNetworks();
    const doc = readFileSync(DOC, "utf8");
    const blocks = [...doc.matchAll(BLOCK)];
    expect(blocks.length).toBeGreaterThanOrEqual(4);
    const updated = doc.replace(BLOCK, (_all, command: string) => `\`\`\`text\n${command}\n${run(command, networks).join("\n")}\n\`\`\``);
    if (process.env.PARLEY_UPDATE_DOCS === "1") writeFileSync(DOC, updated);
    for (const [, command, shown] of blocks) {
      expect(shown!.trimEnd().split("\n"), command).toEqual(run(command!, networks));
    }
  });
});
