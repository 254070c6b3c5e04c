/**
 * A fourth network is one folder (docs/architecture.md, "Adding a network"): the toy adapter in
 * test/fixtures/adapters/toy/ joins the list of adapter factories — the mechanism
 * adapters/index.ts uses — and with nothing else changed it appears in `parley config sample`,
 * `parley doctor`, `parley resolve`, the mappings' clash checks, log redaction and the e2e
 * projects (its contract suite runs as e2e-toy); and no file outside its folder names it.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { Writable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { adapterFactories } from "../../../adapters/index.js";
import { runCommand } from "../../../src/cli/main.js";
import { createLogger } from "../../../src/log/logger.js";
import { toyAdapter } from "../../fixtures/adapters/toy/index.js";
import { discoverE2eProjects } from "../../e2e-projects.js";

const factories = [...adapterFactories, toyAdapter];
const dir = mkdtempSync(join(tmpdir(), "parley-toy-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const mappingsFile = join(dir, "domains.yaml");
writeFileSync(mappingsFile, `networks:
  toy: {}
  xmpp:
    sharedDomains: { toy: toy.gw.example.org }
domains:
  toy.example: { home: toy, appearsOn: { xmpp: { componentDomain: toy.example } } }
  chat.example.org: { home: xmpp, appearsOn: { toy: { handlePrefix: chat- } } }
`);
const configFile = join(dir, "parley.yaml");
writeFileSync(configFile, `mappings: domains.yaml
admin: { enabled: false }
adapters:
  toy: { outboundUrl: "http://127.0.0.1:9/", webhookKey: toy-webhook-key-1 }
`);
const run = (...argv: string[]) => runCommand(argv, factories, {});

describe("a fourth network added as one folder", () => {
  it("appears in parley config sample, with its keys, its README and its secret marked", async () => {
    const out = (await run("config", "sample")).lines.join("\n");
    expect(out).toContain("The toy network: see test/fixtures/adapters/toy/README.md");
    for (const key of ["toy:", "outboundUrl:", "webhookKey:", "PARLEY_ADAPTERS__TOY__WEBHOOK_KEY"]) expect(out).toContain(key);
  });

  it("is checked by parley config check and parley doctor runs its checks", async () => {
    expect((await run("config", "check", "--config", configFile)).exitCode).toBe(0);
    const doctor = await run("doctor", "--config", configFile, "--timeout", "500");
    expect(doctor.lines.join("\n")).toMatch(/FAIL {2}toy service: http:\/\/127\.0\.0\.1:9\/ does not answer/);
  });

  it("parley resolve shows how addresses look on it and routes to it", async () => {
    const out = await run("resolve", "--mappings", mappingsFile, "ann@toy.example");
    expect(out.exitCode, out.lines.join("\n")).toBe(0);
    const text = out.lines.join("\n");
    expect(text).toMatch(/^ +toy +ann@toy\.example {3}\(home\)$/m);
    expect(text).toMatch(/^ +xmpp +ann@toy\.example$/m);
  });

  it("its declared address claims take part in the clash checks", async () => {
    const clash = join(dir, "clash.yaml");
    writeFileSync(clash, `networks: { toy: {}, xmpp: {} }
domains:
  a.example: { home: xmpp, appearsOn: { toy: { handlePrefix: ab- } } }
  b.example: { home: xmpp, appearsOn: { toy: { handlePrefix: ab- } } }
`);
    const out = await run("config", "check", "--mappings", clash);
    expect(out.exitCode).toBe(1);
    expect(out.lines.join("\n")).toMatch(/prefix "ab-" on toy is already the appearance of a\.example/);
  });

  it("its secret never reaches a log line", () => {
    const lines: string[] = [];
    const log = createLogger({ level: "info", secrets: factories }, new Writable({ write(c: Buffer, _e, cb) { lines.push(c.toString()); cb(); } }));
    log.info({ config: { adapters: { toy: { outboundUrl: "http://x/", webhookKey: "toy-webhook-key-1" } } } }, "config");
    expect(lines.join("")).not.toContain("toy-webhook-key-1");
    expect(lines.join("")).toContain("http://x/");
  });

  it("lives in its folder alone: nothing outside it names the toy, and the adapter imports only src/ and its own files", () => {
    const root = resolve(import.meta.dirname, "../../..");
    const folder = join(root, "test/fixtures/adapters/toy");
    const files = (d: string): string[] => readdirSync(d, { withFileTypes: true })
      .flatMap((e) => (e.isDirectory() ? files(join(d, e.name)) : [join(d, e.name)]));
    const outside = [...["src", "bin", "adapters"].flatMap((d) => files(join(root, d))), ...["vitest.config.ts", "test/e2e-projects.ts", "package.json"].map((f) => join(root, f))];
    expect(outside.length).toBeGreaterThan(100);
    expect(outside.filter((f) => /\btoy\b/i.test(readFileSync(f, "utf8"))).map((f) => relative(root, f))).toEqual([]);
    const imports = files(folder).filter((f) => f.endsWith(".ts") && !f.includes("/e2e/"))
      .flatMap((f) => [...readFileSync(f, "utf8").matchAll(/(?:from|import\(?) *"(\.[^"]+)"/g)].map((m) => relative(root, resolve(f, "..", m[1]!))));
    expect(imports.length).toBeGreaterThan(0);
    expect(imports.filter((i) => !i.startsWith("src/") && !i.startsWith("test/fixtures/adapters/toy/"))).toEqual([]);
  });

  it("its e2e tests are a project of their own (e2e-toy), found from its folder", () => {
    const toy = discoverE2eProjects().find((p) => p.name === "e2e-toy");
    expect(toy?.include).toEqual(["test/fixtures/adapters/toy/e2e/**/*.test.ts"]);
    expect(discoverE2eProjects().map((p) => p.name)).toEqual(expect.arrayContaining(["e2e-xmpp", "e2e-matrix", "e2e-email"]));
  });
});
