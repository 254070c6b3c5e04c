/**
 * `kill -HUP` a real `parley start` process (issue 17): it reads its mappings file again and
 * applies it as a new version for every process; an invalid file changes nothing, and the log
 * says why with file and line. (The swap itself, under load and across processes:
 * live-reload.test.ts.)
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { MappingsVersions } from "../../../src/mappings/versions.js";
import { deleteKeysUnder, keyspace } from "../../../src/store/index.js";
import { startParley, writeParleyConfig, type ParleyProcess } from "../../support/parley-processes.js";
import { freePort } from "../../support/ports.js";
import { testPrefix } from "../../support/gateway.js";
import { until } from "../../support/until.js";

const prefix = testPrefix("sighup");
const redis = new Redis("redis://127.0.0.1:6379");
const versions = new MappingsVersions(redis, keyspace(prefix));
const cleanups: Array<() => unknown> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  await deleteKeysUnder(redis, prefix);
  redis.disconnect();
});

describe("SIGHUP", () => {
  it("reloads the mappings file as a new version; an invalid file changes nothing and the log names file and line", async () => {
    const cfg = writeParleyConfig([
      `redis: { url: "redis://127.0.0.1:6379", keyPrefix: "${prefix}" }`,
      "admin: { enabled: false }",
      "adapters:",
      `  email: { hostname: parley.test, listen: { host: 127.0.0.1, port: ${await freePort()} } }`,
    ]);
    cleanups.push(() => cfg.remove());
    const p: ParleyProcess = await startParley(cfg.config, "all");
    cleanups.push(() => p.stop());
    const first = await until("the file's version stored", () => versions.current());
    expect(first.text).not.toContain("sighup.example.org");

    const file = join(cfg.dir, "m.yaml");
    const text = readFileSync(file, "utf8");
    writeFileSync(file, text.replace("\ndefaults:", "  sighup.example.org: { home: email }\n\ndefaults:"));
    p.child.kill("SIGHUP");
    const second = await until("a new version from the file", async () => {
      const v = await versions.current();
      return v && v.version > first.version ? v : undefined;
    });
    expect(second).toMatchObject({ version: first.version + 1, source: "sighup" });
    expect(second.text).toContain("sighup.example.org: { home: email }");
    await until("the process says so", () => (p.output().includes('"msg":"mappings reloaded (SIGHUP)"') ? true : undefined));

    writeFileSync(file, text.replace("\ndefaults:", "  broken.example.org: { home: nowhere }\n\ndefaults:"));
    p.child.kill("SIGHUP");
    const said = await until("the process says the file is invalid", () => p.output().split("\n").find((l) => l.includes('"msg":"mappings file invalid: nothing changed"')));
    expect((JSON.parse(said) as { problems: string[] }).problems).toEqual([expect.stringMatching(/m\.yaml:\d+: domains\."broken\.example\.org"\.home: unknown network "nowhere"/)]);
    expect((await versions.current())?.version).toBe(second.version);
    expect(p.child.exitCode).toBeNull();
  });
});
