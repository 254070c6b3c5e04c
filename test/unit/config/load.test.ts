import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { asNetworkId } from "../../../src/model/address.js";
import { loadConfig, parseConfig } from "../../../src/config/load.js";
import { envName } from "../../../src/config/env.js";

/** Adapter config schemas as factories would export them. */
const adapters = [
  { id: asNetworkId("xmpp"), configSchema: z.strictObject({ password: z.string().optional(), port: z.number().int().default(5347), hosts: z.array(z.string()).default([]) }) },
  { id: asNetworkId("matrix"), configSchema: z.strictObject({ asToken: z.string().optional(), homeserverUrl: z.string().default("http://127.0.0.1:8008") }) },
];
const FIX = "test/fixtures/config";

function parse(text: string, env: Record<string, string> = {}) {
  return parseConfig(text, "p.yaml", { adapters, env });
}
function lines(r: ReturnType<typeof parse>): string[] {
  return r.ok ? [] : r.error.lines();
}

/** Directories the tests made, removed when they are done. */
const madeDirs: string[] = [];
afterAll(() => { for (const d of madeDirs) rmSync(d, { recursive: true, force: true }); });

function secretFile(content: string): string {
  const dir = mkdtempSync(join(tmpdir(), "parley-config-"));
  madeDirs.push(dir);
  const file = join(dir, "secret");
  writeFileSync(file, content);
  return file;
}

describe("gateway config", () => {
  it("loads a good file: defaults filled, tokenFile read, mappings path relative to the file", async () => {
    const r = await loadConfig(`${FIX}/good.yaml`, { adapters, env: {} });
    if (!r.ok) throw r.error;
    const c = r.config;
    expect(c.redis).toEqual({ url: "redis://127.0.0.1:6379/2", keyPrefix: "test:" });
    expect(c.admin.token).toBe("a-test-admin-token-0123456789");
    expect(c.delivery).toEqual({ attempts: 3, backoffBaseMs: 1000, backoffCapMs: 600_000, concurrency: 8, queueSharing: "leased", maxConversationBacklog: 10_000 });
    expect(c.presence.livenessTimeoutMs).toBe(90_000);
    expect(c.log.level).toBe("info");
    expect(c.adapters).toEqual({ xmpp: { password: "component-secret", port: 5347, hosts: [] }, matrix: { homeserverUrl: "http://127.0.0.1:8008" } });
    expect(c.mappings).toBe(resolve("mappings/domains.example.yaml"));
  });

  it("uses the built-in default without a file", async () => {
    const r = await loadConfig(undefined, { adapters, env: {} });
    if (!r.ok) throw r.error;
    expect(r.config.mappings).toBe("mappings/domains.example.yaml");
    expect(r.config.admin.enabled).toBe(false);
    expect(r.config.adapters).toEqual({});
    expect(r.config.redis.url).toBe("redis://127.0.0.1:6379");
  });

  it("reports every problem of a broken file at once, with file, line and key", async () => {
    const r = await loadConfig(`${FIX}/broken.yaml`, { adapters, env: {} });
    const f = `${FIX}/broken.yaml`;
    expect(lines(r)).toEqual([
      `${f}:2: mappings: expected string, received number`,
      `${f}:4: redis.url: must be a redis:// or rediss:// URL`,
      `${f}:5: redis.keyprefix: unknown key`,
      `${f}:7: admin.port: must be at most 65535`,
      `${f}:8: admin.token: must be at least 16 characters`,
      `${f}:10: delivery.attempts: expected number, received string`,
      `${f}:11: delivery.backoffBaseMs: must be at least 1`,
      `${f}:14: log.level: must be one of fatal, error, warn, info, debug, trace, silent`,
      `${f}:17: adapters.xmpp.password: expected string, received number`,
      `${f}:18: adapters.irc: unknown key`,
      `${f}:19: colour: unknown key`,
    ]);
  });

  it("reports a misspelt adapter key beside a missing one (a loose schema, like the real adapters')", () => {
    const loose = [{ id: asNetworkId("matrix"), configSchema: z.object({ homeserverUrl: z.string(), botLocalpart: z.string().optional() }) }];
    const r = parseConfig("admin: { enabled: false }\nadapters:\n  matrix:\n    botLocalPart: bot\n", "p.yaml", { adapters: loose, env: {} });
    expect(lines(r)).toEqual([
      "p.yaml:3: adapters.matrix.homeserverUrl: is required",
      "p.yaml:4: adapters.matrix.botLocalPart: unknown key",
    ]);
  });

  it("reports YAML syntax errors and unreadable files", async () => {
    expect(lines(parse("redis: [\n"))).toEqual([expect.stringMatching(/^p\.yaml:2: YAML syntax: /)]);
    const r = await loadConfig("/nonexistent/parley.yaml", { adapters, env: {} });
    expect(lines(r)).toEqual([expect.stringMatching(/^\/nonexistent\/parley\.yaml: cannot read the config file: ENOENT/)]);
  });

  it("requires an admin token when the admin API is on, and not both token and tokenFile", () => {
    expect(lines(parse("redis: {}\n"))).toEqual(["p.yaml:1: admin.token: the admin API needs a token: set admin.tokenFile (or PARLEY_ADMIN__TOKEN_FILE), or admin.enabled: false"]);
    expect(lines(parse("admin:\n  token: 0123456789abcdef\n  tokenFile: /x\n"))).toEqual(["p.yaml:3: admin.tokenFile: set admin.token or admin.tokenFile, not both"]);
    expect(lines(parse("admin:\n  tokenFile: /nonexistent/token\n"))).toEqual(["p.yaml:2: admin.tokenFile: cannot read /nonexistent/token: ENOENT"]);
  });
});

describe("environment overrides", () => {
  const base = "admin: { enabled: false }\n";

  it("names each variable after its key path in upper snake case", () => {
    expect(envName(["redis", "url"])).toBe("PARLEY_REDIS__URL");
    expect(envName(["redis", "keyPrefix"])).toBe("PARLEY_REDIS__KEY_PREFIX");
    expect(envName(["adapters", "matrix", "asToken"])).toBe("PARLEY_ADAPTERS__MATRIX__AS_TOKEN");
  });

  it("overrides file values, nested adapter keys, numbers, booleans and lists", () => {
    const r = parse("redis: { url: redis://file:6379 }\nadapters: { matrix: {} }\n", {
      PARLEY_REDIS__URL: "redis://env:6379",
      PARLEY_REDIS__KEY_PREFIX: "env:",
      PARLEY_DELIVERY__ATTEMPTS: "4",
      PARLEY_ADMIN__ENABLED: "false",
      PARLEY_ADAPTERS__MATRIX__AS_TOKEN: "as-secret",
      PARLEY_ADAPTERS__XMPP__HOSTS: "a.example, b.example",
      PARLEY_MAPPINGS: "/etc/parley/m.yaml",
      PARLEY_LOG_LEVEL: "debug",
      PARLEY_PEER_CACHE: "/tmp/x",
    });
    if (!r.ok) throw r.error;
    expect(r.config.redis).toEqual({ url: "redis://env:6379", keyPrefix: "env:" });
    expect(r.config.delivery.attempts).toBe(4);
    expect(r.config.admin.enabled).toBe(false);
    expect(r.config.adapters.matrix).toEqual({ asToken: "as-secret", homeserverUrl: "http://127.0.0.1:8008" });
    expect(r.config.adapters.xmpp).toEqual({ hosts: ["a.example", "b.example"], port: 5347 });
    expect(r.config.mappings).toBe("/etc/parley/m.yaml");
    expect(r.config.log.level).toBe("info");
  });

  it("reads _FILE secrets, dropping the final newline", () => {
    const admin = secretFile("admin-token-from-a-secret-file\n");
    const as = secretFile("as-token-from-file");
    const r = parse("", { PARLEY_ADMIN__TOKEN_FILE: admin, PARLEY_ADAPTERS__MATRIX__AS_TOKEN_FILE: as });
    if (!r.ok) throw r.error;
    expect(r.config.admin.token).toBe("admin-token-from-a-secret-file");
    expect(r.config.adapters.matrix).toEqual({ asToken: "as-token-from-file", homeserverUrl: "http://127.0.0.1:8008" });
    expect(readFileSync(admin, "utf8")).toContain("\n");
  });

  it("names the variable on every error, without echoing secrets", () => {
    const r = parse(base, {
      PARLEY_DELIVERY__ATTEMPTS: "many",
      PARLEY_ADMIN__PORT: "70000",
      PARLEY_REDIS__URLL: "redis://x",
      PARLEY_REDDIS__URL: "redis://x",
      PARLEY_ADMIN__TOKEN_FILE: "/nonexistent/secret",
      PARLEY_ADAPTERS__MATRIX__AS_TOKEN_FILE: secretFile("x"),
      PARLEY_ADAPTERS__MATRIX__HOMESERVER_URL: "http://h",
      PARLEY_ADAPTERS__XMPP__PORT: "5347x",
      PARLEY_ADAPTERS__IRC__X: "1",
      PARLEY_ADMIN__TOKEN: "short-secret",
    });
    expect(lines(r)).toEqual([
      "environment variable PARLEY_ADAPTERS__IRC__X: adapters.irc: unknown key",
      "environment variable PARLEY_ADAPTERS__XMPP__PORT: adapters.xmpp.port: \"5347x\" is not a number",
      "environment variable PARLEY_ADMIN__PORT: admin.port: must be at most 65535",
      "environment variable PARLEY_ADMIN__TOKEN: admin.token: must be at least 16 characters",
      "environment variable PARLEY_ADMIN__TOKEN_FILE: admin.token: cannot read the secret file /nonexistent/secret: ENOENT",
      "environment variable PARLEY_DELIVERY__ATTEMPTS: delivery.attempts: \"many\" is not a number",
      "environment variable PARLEY_REDDIS__URL: no config section \"reddis\" (known: mappings, redis, admin, delivery, presence, log, trace, limits, media, adapters)",
      "environment variable PARLEY_REDIS__URLL: redis.urll: unknown key",
    ]);
    expect(lines(r).join("\n")).not.toContain("short-secret");
  });
});

describe("adapter sections for the gateway", () => {
  it("gives the parsed sections by network id, leaving out networks without one", async () => {
    const { adapterConfigsOf } = await import("../../../src/config/index.js");
    const r = parse("admin: { enabled: false }\nadapters: { matrix: { asToken: t } }\n");
    if (!r.ok) throw r.error;
    expect([...adapterConfigsOf(r.config)]).toEqual([["matrix", { asToken: "t", homeserverUrl: "http://127.0.0.1:8008" }]]);
  });
});

describe("adapter sections with non-strict schemas", () => {
  it("still report misspelt keys, from the file or the environment", () => {
    const lax = [{ id: asNetworkId("matrix"), configSchema: z.object({ asToken: z.string().optional() }).loose() }];
    const r = parseConfig("admin: { enabled: false }\nadapters:\n  matrix:\n    asTokn: x\n", "p.yaml", { adapters: lax, env: { PARLEY_ADAPTERS__MATRIX__HS_TOKN: "y" } });
    expect(r.ok ? [] : r.error.lines()).toEqual([
      "environment variable PARLEY_ADAPTERS__MATRIX__HS_TOKN: adapters.matrix.hsTokn: unknown key",
      "p.yaml:4: adapters.matrix.asTokn: unknown key",
    ]);
  });
});
