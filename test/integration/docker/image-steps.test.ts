/**
 * The Docker deployment, validated without Docker (no engine on this kind of machine; issue 7):
 *  - the compose file passes `docker-compose config -q` (Debian's docker-compose 1.29, installed
 *    with --no-install-recommends when missing), and a broken one does not;
 *  - the entrypoint parses; Prosody's config passes `prosodyctl check config`; Synapse starts from
 *    docker-init's homeserver.yaml and loads its registration;
 *  - `parley docker-init` generates the shared secrets idempotently and a config that checks;
 *  - the Dockerfile's COPY and RUN steps, read from the Dockerfile itself, are replayed on the
 *    host stage by stage in temporary directories, and Parley starts from the runtime stage's
 *    contents (config check, start, /healthz, SIGTERM).
 * Replay differences (said in docs/deployment.md): npm runs with --prefer-offline from the host's
 * cache; `npm cache clean` is not run (it would empty the host's cache); the RUN that creates
 * /data and changes owners touches system paths and is checked by reading it, not run.
 */
import { spawn, spawnSync, type SpawnSyncReturns } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { deleteKeysUnder } from "../../../src/store/index.js";
import { freePort } from "../../support/redis-server.js";
import { ensureSynapseVenv } from "../../harness/synapse/synapse.js";
import { ensureProsodyInstalled } from "../../harness/prosody/prosody.js";

const root = resolve(import.meta.dirname, "../../..");
const work = mkdtempSync(join(tmpdir(), "parley-docker-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function sh(cmd: string, cwd: string, env: Record<string, string> = {}): SpawnSyncReturns<string> {
  return spawnSync("sh", ["-c", cmd], { cwd, encoding: "utf8", env: { ...process.env, ...env }, maxBuffer: 64 << 20, timeout: 400_000 });
}

/** Install a Debian package when `command` is missing (root; never with recommends: docker-compose would pull the engine). */
function ensureCommand(command: string, pkg: string): void {
  if (sh(`command -v ${command}`, root).status === 0) return;
  const install = `DEBIAN_FRONTEND=noninteractive apt-get install -y -o DPkg::Lock::Timeout=600 --no-install-recommends ${pkg}`;
  if (process.getuid?.() !== 0) throw new Error(`${command} is missing; as root: ${install}`);
  const r = sh(`${install} || (apt-get update -o DPkg::Lock::Timeout=600 && ${install})`, root);
  if (r.status !== 0) throw new Error(`installing ${pkg} failed: ${r.stderr}`);
}

interface Step { readonly stage: string; readonly op: "COPY" | "RUN" | "USER" | "FROM" | "WORKDIR" | "ENV"; readonly args: string }

/** The Dockerfile's steps, continuation lines joined. */
function dockerfileSteps(): Step[] {
  const text = readFileSync(join(root, "docker/Dockerfile"), "utf8").replace(/\\\n/g, " ");
  const steps: Step[] = [];
  let stage = "";
  for (const line of text.split("\n")) {
    const m = /^(FROM|COPY|RUN|USER|WORKDIR|ENV)\s+(.*)$/.exec(line.trim());
    if (!m) continue;
    if (m[1] === "FROM") stage = /AS\s+(\S+)/i.exec(m[2]!)?.[1] ?? "";
    steps.push({ stage, op: m[1] as Step["op"], args: m[2]!.trim() });
  }
  return steps;
}

/** Replay one stage: COPY from the repository (or an earlier stage's directory), RUN in its directory. */
function replayStage(name: string, dir: string, stageDirs: Record<string, string>, workdirOf: Record<string, string>): string[] {
  const skipped: string[] = [];
  mkdirSync(dir, { recursive: true });
  for (const s of dockerfileSteps().filter((x) => x.stage === name)) {
    if (s.op === "COPY") {
      const from = /^--from=(\S+)\s+/.exec(s.args)?.[1];
      const parts = s.args.replace(/^--from=\S+\s+/, "").split(/\s+/);
      const dest = parts.pop()!;
      if (dest.startsWith("/")) { skipped.push(`COPY ${s.args} (outside the workdir)`); continue; }
      for (const src of parts) {
        const source = from ? join(stageDirs[from]!, src.replace(new RegExp(`^${workdirOf[from]}/?`), "")) : join(root, src);
        const target = dest.endsWith("/") ? join(dir, dest, src.split("/").pop()!) : join(dir, dest);
        mkdirSync(dirname(target), { recursive: true });
        cpSync(source, target, { recursive: true });
      }
    } else if (s.op === "RUN") {
      if (/(^|\s)\/(data|usr|etc)\b/.test(s.args)) { skipped.push(`RUN ${s.args}`); continue; }
      const cmd = s.args.replace(/\s*&&\s*npm cache clean --force/, "");
      const r = sh(cmd, dir, { npm_config_prefer_offline: "true", npm_config_audit: "false", npm_config_fund: "false" });
      expect(r.status, `RUN ${cmd} in stage ${name}:\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`).toBe(0);
    }
  }
  return skipped;
}

describe("docker/ validated on the host", () => {
  it("the compose file passes docker-compose config -q, and a broken one does not", () => {
    ensureCommand("docker-compose", "docker-compose");
    const ok = sh("docker-compose -f compose.yaml config -q", join(root, "docker"));
    expect(ok.status, ok.stderr).toBe(0);
    const cluster = sh("docker-compose -f compose.yaml --profile cluster config -q", join(root, "docker")); // issue 14
    expect(cluster.status, cluster.stderr).toBe(0);
    const broken = readFileSync(join(root, "docker/compose.yaml"), "utf8").replace("  redis:\n", "  redis:\n    no_such_key: 1\n");
    const bad = spawnSync("docker-compose", ["-f", "-", "config", "-q"], { cwd: join(root, "docker"), input: broken, encoding: "utf8" });
    expect(bad.status).not.toBe(0);
    const text = readFileSync(join(root, "docker/compose.yaml"), "utf8");
    expect(text).toMatch(/--appendonly", "yes"/);
    expect(text).toMatch(/--maxmemory-policy", "noeviction"/);
    expect(text).toMatch(/parley-worker:[\s\S]*--role", "workers"/);
  });

  it("the entrypoint parses, Prosody's config passes prosodyctl check config, the image runs as a non-root user on Node 24", () => {
    expect(sh("sh -n docker/entrypoint.sh", root).status).toBe(0);
    // Prosody's own check of the config, with the shared volume's path mapped onto a directory here.
    ensureProsodyInstalled();
    // prosodyctl insists that the prosody user can read the files, as in the container.
    const pdir = join(work, "prosody-check");
    const vol = join(pdir, "parley-data");
    mkdirSync(join(vol, "secrets"), { recursive: true });
    for (const d of [work, pdir, vol, join(vol, "secrets")]) chmodSync(d, 0o755);
    writeFileSync(join(vol, "secrets/xmpp-component-secret"), "secret\n", { mode: 0o644 });
    writeFileSync(join(pdir, "prosody.cfg.lua"), readFileSync(join(root, "docker/prosody/prosody.cfg.lua"), "utf8").replaceAll("/parley-data/", `${vol}/`), { mode: 0o644 });
    const check = sh(`prosodyctl --config ${join(pdir, "prosody.cfg.lua")} check config`, root);
    expect(check.status, `${check.stdout}${check.stderr}`).toBe(0);
    expect(check.stdout).toContain("All checks passed");
    const steps = dockerfileSteps();
    expect(steps.filter((s) => s.op === "FROM").map((s) => s.args)).toEqual(["node:24-bookworm-slim AS build", "node:24-bookworm-slim AS runtime"]);
    expect(steps.filter((s) => s.stage === "runtime" && s.op === "USER").map((s) => s.args)).toEqual(["node"]);
  });

  it("parley docker-init generates secrets once, keeps them on a second run, and its config checks", () => {
    const dir = join(work, "init");
    const run = () => sh(`${JSON.stringify(process.execPath)} bin/parley.js docker-init --dir ${dir}/data --synapse-dir ${dir}/synapse --mappings mappings/domains.example.yaml`, root);
    const first = run();
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/created .*secrets\/xmpp-component-secret/);
    const secret = readFileSync(join(dir, "data/secrets/xmpp-component-secret"), "utf8");
    const registration = readFileSync(join(dir, "data/matrix-registration.yaml"), "utf8");
    expect(secret.trim()).toMatch(/^[0-9a-f]{64}$/);
    expect(registration).toContain(`as_token: ${readFileSync(join(dir, "data/secrets/matrix-as-token"), "utf8").trim()}`);
    expect(registration).toContain(`hs_token: ${readFileSync(join(dir, "data/secrets/matrix-hs-token"), "utf8").trim()}`);
    expect(statSync(join(dir, "data/secrets/admin-token")).mode & 0o077).toBe(0);
    expect(readFileSync(join(dir, "synapse/homeserver.yaml"), "utf8")).toContain("/parley-data/matrix-registration.yaml");
    expect(readFileSync(join(dir, "synapse/signing.key"), "utf8")).toMatch(/^ed25519 a_\w+ [A-Za-z0-9+/]{43}\n$/);
    const second = run();
    expect(second.status).toBe(0);
    expect(second.stdout).not.toContain("created");
    expect(readFileSync(join(dir, "data/secrets/xmpp-component-secret"), "utf8")).toBe(secret);
    expect(readFileSync(join(dir, "data/matrix-registration.yaml"), "utf8")).toBe(registration);
    // parley.yaml holds no secret; with the compose file's _FILE variables it is a valid config.
    const config = readFileSync(join(dir, "data/parley.yaml"), "utf8");
    expect(config).not.toContain(secret.trim());
    const check = sh(`${JSON.stringify(process.execPath)} bin/parley.js config check --config ${dir}/data/parley.yaml`, root, {
      PARLEY_ADAPTERS__XMPP__COMPONENT_SECRET_FILE: join(dir, "data/secrets/xmpp-component-secret"),
      PARLEY_ADAPTERS__MATRIX__AS_TOKEN_FILE: join(dir, "data/secrets/matrix-as-token"),
      PARLEY_ADAPTERS__MATRIX__HS_TOKEN_FILE: join(dir, "data/secrets/matrix-hs-token"),
    });
    expect(check.status, `${check.stdout}${check.stderr}`).toBe(0);
  });

  it("the Dockerfile's build steps, replayed on the host, give a runtime that starts Parley", async () => {
    const t0 = performance.now();
    const build = join(work, "build");
    const app = join(work, "app");
    const workdirOf = { build: "/src", runtime: "/app" };
    const skippedBuild = replayStage("build", build, {}, workdirOf);
    expect(skippedBuild).toEqual([]);
    expect(existsSync(join(build, "dist/bin/parley.js"))).toBe(true);
    const skipped = replayStage("runtime", app, { build }, workdirOf);
    expect(skipped).toHaveLength(2); // COPY of the entrypoint to /usr/local/bin, RUN on /data
    // Production dependencies only: no compiler, no test runner in the runtime.
    expect(existsSync(join(app, "node_modules/bullmq"))).toBe(true);
    expect(existsSync(join(app, "node_modules/typescript"))).toBe(false);
    expect(existsSync(join(app, "node_modules/vitest"))).toBe(false);
    console.log(`measured: Dockerfile steps replayed on the host in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const prefix = `test-docker-${Date.now().toString(36)}`;
    const port = await freePort();
    const cfg = join(app, "minimal.yaml");
    writeFileSync(cfg, `mappings: mappings/domains.example.yaml\nredis: { url: "redis://127.0.0.1:6379", keyPrefix: "${prefix}:" }\nadmin: { enabled: true, host: 127.0.0.1, port: ${port}, token: "${prefix}-admin-token" }\nlog: { level: warn }\n`);
    const node = process.execPath;
    const check = spawnSync(node, ["dist/bin/parley.js", "config", "check", "--config", cfg], { cwd: app, encoding: "utf8" });
    expect(check.status, `${check.stdout}${check.stderr}`).toBe(0);
    // The runtime stage's ENV lines (NODE_ENV, NODE_OPTIONS) apply to the process, as in the image.
    const imageEnv = Object.fromEntries(dockerfileSteps().filter((x) => x.stage === "runtime" && x.op === "ENV").map((x) => [x.args.slice(0, x.args.indexOf("=")), x.args.slice(x.args.indexOf("=") + 1)]));
    expect(imageEnv).toMatchObject({ NODE_ENV: "production", NODE_OPTIONS: "--max-semi-space-size=8" });
    const child = spawn(node, ["dist/bin/parley.js", "start", "--config", cfg], { cwd: app, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...imageEnv } });
    let log = "";
    child.stdout.on("data", (b: Buffer) => { log += b.toString(); });
    child.stderr.on("data", (b: Buffer) => { log += b.toString(); });
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    try {
      let healthy = false;
      const deadline = Date.now() + 30_000;
      while (!healthy && Date.now() < deadline && child.exitCode === null) {
        healthy = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
        if (!healthy) await new Promise((r) => setTimeout(r, 100)); // polling the listener
      }
      expect(healthy, log).toBe(true);
      child.kill("SIGTERM");
      expect(await exited, log).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
      const redis = new Redis("redis://127.0.0.1:6379");
      await deleteKeysUnder(redis, prefix).finally(() => redis.disconnect());
    }
  });
});

describe("docker-init's Synapse config, started for real", () => {
  it("Synapse starts from the generated homeserver.yaml and signing key, and knows the registration's as_token", async () => {
    const dir = join(work, "synapse-check");
    const init = sh(`${JSON.stringify(process.execPath)} bin/parley.js docker-init --dir ${dir}/data --synapse-dir ${dir}/synapse --mappings mappings/domains.example.yaml`, root);
    expect(init.status, init.stderr).toBe(0);
    // The container paths, mapped onto this directory; the listener on a free loopback port.
    const port = await freePort();
    const config = readFileSync(join(dir, "synapse/homeserver.yaml"), "utf8")
      .replace(/(^|\s)\/data\//gm, `$1${dir}/synapse/`).replaceAll("/parley-data/", `${dir}/data/`)
      .replace("port: 8008", `port: ${port}`).replace("- 0.0.0.0", "- 127.0.0.1");
    writeFileSync(join(dir, "synapse/homeserver.yaml"), config);
    const python = await ensureSynapseVenv();
    const child = spawn(python, ["-m", "synapse.app.homeserver", "--config-path", join(dir, "synapse/homeserver.yaml")], { cwd: join(dir, "synapse"), stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (b: Buffer) => { stderr += b.toString(); });
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    try {
      const base = `http://127.0.0.1:${port}`;
      const deadline = Date.now() + 90_000;
      let up = false;
      while (!up && Date.now() < deadline && child.exitCode === null) {
        up = await fetch(`${base}/_matrix/client/versions`).then((r) => r.ok, () => false);
        if (!up) await new Promise((r) => setTimeout(r, 200)); // polling the listener
      }
      expect(up, stderr.slice(-3000)).toBe(true);
      const asToken = readFileSync(join(dir, "data/secrets/matrix-as-token"), "utf8").trim();
      const res = await fetch(`${base}/_matrix/client/v3/account/whoami`, { headers: { authorization: `Bearer ${asToken}` } });
      expect(await res.json()).toMatchObject({ user_id: "@parley:matrix.example.org" });
    } finally {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    }
  });
});
