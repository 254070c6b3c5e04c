/**
 * `parley docker-init` knows no network: each factory's `provisioning` brings its options, its
 * files in the shared volume and its section of parley.yaml; a second run keeps every file.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { adapterFactories } from "../../../adapters/index.js";
import { dockerInitCommand, dockerInitUsage } from "../../../bin/docker-init.js";
import type { AdapterFactory } from "../../../src/adapter/contract.js";
import { toyAdapter } from "../../fixtures/adapters/toy/index.js";

const toyWithProvisioning: AdapterFactory<unknown> = {
  ...toyAdapter,
  provisioning: {
    options: { "toy-url": { default: "http://toy:8080/", valueName: "URL" } },
    provision(ctx) {
      ctx.file("secrets/toy-webhook-key", () => "k".repeat(20), 0o600);
      return { outboundUrl: ctx.options["toy-url"] };
    },
  },
};

/** Directories the tests made, removed when they are done. */
const madeDirs: string[] = [];
afterAll(() => { for (const d of madeDirs) rmSync(d, { recursive: true, force: true }); });
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "parley-init-"));
  madeDirs.push(dir);
  return dir;
}

describe("parley docker-init", () => {
  it("writes each network's files and section once, and keeps them on a second run", async () => {
    const dir = tempDir();
    const args = ["--dir", join(dir, "data"), "--synapse-dir", join(dir, "synapse"), "--mappings", "mappings/domains.example.yaml"];
    const first = await dockerInitCommand(args);
    expect(first.exitCode, first.lines.join("\n")).toBe(0);
    for (const file of ["secrets/admin-token", "secrets/xmpp-component-secret", "matrix-registration.yaml", "parley.yaml"]) {
      expect(first.lines).toContain(`created  ${join(dir, "data", file)}`);
    }
    expect(first.lines).toContain(`created  ${join(dir, "synapse", "signing.key")}`);
    expect(statSync(join(dir, "data/secrets/matrix-as-token")).mode & 0o077).toBe(0);
    const config = parse(readFileSync(join(dir, "data/parley.yaml"), "utf8")) as { adapters: Record<string, unknown> };
    expect(Object.keys(config.adapters)).toEqual(adapterFactories.filter((f) => f.provisioning).map((f) => f.id));
    const second = await dockerInitCommand(args);
    expect(second.lines.filter((l) => l.startsWith("created"))).toEqual([]);
  });

  it("takes a fourth network's options, files and section from its factory alone", async () => {
    const dir = tempDir();
    const factories = [...adapterFactories, toyWithProvisioning];
    expect(dockerInitUsage(factories)).toContain("[--toy-url URL]");
    const out = await dockerInitCommand(["--dir", dir, "--mappings", "mappings/domains.example.yaml", "--toy-url", "http://elsewhere/"], factories);
    expect(out.exitCode, out.lines.join("\n")).toBe(0);
    expect(out.lines).toContain(`created  ${join(dir, "secrets/toy-webhook-key")}`);
    const config = parse(readFileSync(join(dir, "parley.yaml"), "utf8")) as { adapters: Record<string, { outboundUrl?: string }> };
    expect(config.adapters.toy?.outboundUrl).toBe("http://elsewhere/");
  });

  it("refuses an unknown option with the usage", async () => {
    const out = await dockerInitCommand(["--dir", "/nonexistent", "--bogus", "x"]);
    expect(out.exitCode).toBe(2);
    expect(out.lines.at(-1)).toBe(dockerInitUsage());
  });
});
