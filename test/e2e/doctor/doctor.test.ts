/**
 * `parley doctor` against a healthy local deployment (the e2e-demo tier's: Prosody, Synapse,
 * Postfix, Parley, Redis with AOF) and against broken variants of its config: each problem is
 * named with its fix. The healthy run goes through the real command line; the broken ones call
 * the same command in-process with a config file that differs in one key.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, inject, it } from "vitest";
import { parse, stringify } from "yaml";
import { adapterFactories } from "../../../adapters/index.js";
import { doctorCommand, doctorsOf } from "../../../src/cli/doctor.js";
import { loaderFor } from "../../../src/cli/main.js";
import type { CommandOutput } from "../../../src/cli/index.js";
import { freePort } from "../../support/redis-server.js";
import type { DemoDeploymentCoordinates } from "../demo/global-setup.js";

const d = JSON.parse(inject("demoDeployment")) as DemoDeploymentCoordinates;

const loadAll = loaderFor(adapterFactories, {});

/** The deployment's config with one change, written beside it (the mappings path is relative). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a YAML tree edited in place
type Tree = Record<string, any>;
function variant(name: string, change: (c: Tree) => void): string {
  const c = parse(readFileSync(d.configPath, "utf8")) as Tree;
  change(c);
  const path = join(d.dir, `doctor-${name}.yaml`);
  writeFileSync(path, stringify(c), { mode: 0o600 });
  return path;
}

async function doctor(configPath: string): Promise<CommandOutput & { text: string }> {
  const out = await doctorCommand(["--config", configPath, "--timeout", "2000"], { loadAll, networks: doctorsOf(adapterFactories) });
  return { ...out, text: out.lines.join("\n") };
}

describe("parley doctor", () => {
  it("passes every check on a healthy deployment (through the command line)", () => {
    const r = spawnSync(process.execPath, ["bin/parley.js", "doctor", "--config", d.configPath], { encoding: "utf8", timeout: 60_000 });
    const text = `${r.stdout}${r.stderr}`;
    expect(text, text).toContain("No problems found.");
    expect(r.status).toBe(0);
    for (const check of ["redis: Redis at", "redis persistence: appendonly yes", "xmpp link: up", "matrix link: up", "email link: up",
      "xmpp component matrix.demo: the secret is accepted; the link is held by a running Parley", "matrix as_token: the homeserver knows",
      "matrix registration:", "matrix homeserver → parley: the homeserver reaches", "email listener:", "email relay:"]) {
      expect(text).toContain(check);
    }
    expect(text).not.toMatch(/^FAIL/m);
    // DNS for the demo's domains is not resolvable here: a note, never a failure.
    expect(text).toMatch(/^note {2}dns MX chat\.demo/m);
  });

  it("names Redis being down, with its fix", async () => {
    const port = await freePort();
    const r = await doctor(variant("redis-down", (c) => { c.redis.url = `redis://127.0.0.1:${port}`; }));
    expect(r.exitCode).toBe(1);
    expect(r.text).toMatch(new RegExp(`FAIL {2}redis: Redis at redis://127.0.0.1:${port} does not answer`));
    expect(r.text).toMatch(/fix: start Redis/);
  });

  it("names a Redis that keeps nothing on disk", async () => {
    const r = await doctor(variant("redis-volatile", (c) => { c.redis.url = "redis://127.0.0.1:6379"; }));
    expect(r.text).toMatch(/FAIL {2}redis persistence: neither AOF \(appendonly\) nor RDB/);
    expect(r.text).toMatch(/fix: in redis\.conf: appendonly yes, maxmemory-policy noeviction/);
  });

  it("names a wrong component secret, per component domain, with its fix", async () => {
    const r = await doctor(variant("xmpp-secret", (c) => { c.adapters.xmpp.componentSecret = "not-the-secret"; }));
    expect(r.exitCode).toBe(1);
    expect(r.text).toMatch(/FAIL {2}xmpp component matrix\.demo: 127\.0\.0\.1:\d+ refuses the component secret/);
    expect(r.text).toMatch(/fix: make adapters\.xmpp\.componentSecret .* equal to component_secret of Component "matrix\.demo"/);
  });

  it("names a wrong hs_token, with its fix", async () => {
    const r = await doctor(variant("hs-token", (c) => { c.adapters.matrix.hsToken = "wrong-hs-token-0123456789abcdef"; }));
    expect(r.exitCode).toBe(1);
    expect(r.text).toMatch(/FAIL {2}matrix registration: registration .*: hs_token differs from adapters\.matrix\.hsToken/);
    expect(r.text).toMatch(/fix: the homeserver sends the registration's hs_token/);
  });

  it("names a wrong as_token as refused by the homeserver", async () => {
    const r = await doctor(variant("as-token", (c) => { c.adapters.matrix.asToken = "wrong-as-token-0123456789abcdef"; }));
    expect(r.text).toMatch(/FAIL {2}matrix as_token: the homeserver refuses the as_token \(401 M_UNKNOWN_TOKEN\)/);
  });

  it("names an unreachable relay, with its fix", async () => {
    const port = await freePort();
    const r = await doctor(variant("relay", (c) => { c.adapters.email.outbound.port = port; }));
    expect(r.exitCode).toBe(1);
    expect(r.text).toMatch(new RegExp(`FAIL {2}email relay: the relay 127\\.0\\.0\\.1:${port}: connect ECONNREFUSED`));
    expect(r.text).toMatch(/fix: start the MTA or fix adapters\.email\.outbound\.host\/port/);
  });
});

describe("parley doctor: usage", () => {
  it("wrong arguments are exit code 2 with the usage", async () => {
    const r = await doctorCommand(["--bogus"], { loadAll, networks: [] });
    expect(r.exitCode).toBe(2);
    expect(r.lines.join("\n")).toContain("usage: parley doctor");
    expect((await doctorCommand(["--timeout", "5"], { loadAll, networks: [] })).exitCode).toBe(2);
  });

  it("an invalid config is named first, with where to look", async () => {
    const path = variant("invalid", (c) => { c.delivery = { attempts: "many" }; });
    const r = await doctor(path);
    expect(r.exitCode).toBe(1);
    expect(r.text).toMatch(/delivery\.attempts/);
    expect(r.text).toContain("fix: the config or mappings above are invalid");
  });
});
