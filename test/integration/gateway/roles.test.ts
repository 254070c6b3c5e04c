/**
 * Issue 14, roles: a real `parley start --role workers` process binds no port and opens no
 * listener (SMTP, application service, media, XMPP link), read from /proc: the LISTEN sockets of
 * the machine whose inodes are among the process's open file descriptors. `--role all` with the
 * same config does listen (the check can fail). Peers are unreachable on purpose: a worker needs
 * no listener config and starts anyway.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { deleteKeysUnder } from "../../../src/store/index.js";
import { testPrefix } from "../../support/gateway.js";
import { until } from "../../support/until.js";

const root = new URL("../../../", import.meta.url).pathname;
let child: ChildProcess | undefined;
let dir: string | undefined;
let prefix: string | undefined;

afterEach(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child!.once("exit", r));
    child.kill("SIGTERM");
    await exited;
  }
  child = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (prefix) {
    const redis = new Redis("redis://127.0.0.1:6379");
    try { await deleteKeysUnder(redis, prefix); } finally { redis.disconnect(); }
  }
});

function writeConfig(): string {
  dir = mkdtempSync(join(tmpdir(), "parley-roles-"));
  prefix = testPrefix("roles");
  copyFileSync(join(root, "mappings/domains.example.yaml"), join(dir, "m.yaml"));
  writeFileSync(join(dir, "c.yaml"), [
    "mappings: m.yaml",
    `redis: { url: "redis://127.0.0.1:6379", keyPrefix: "${prefix}" }`,
    "admin: { enabled: false }",
    'media: { listener: { enabled: true, port: 0, secret: "0123456789abcdef0123456789abcdef", publicUrl: "http://media.example.org" } }',
    "adapters:",
    "  xmpp: { componentSecret: component-secret-0123, host: 127.0.0.1, port: 1 }",
    '  matrix: { homeserverUrl: "http://127.0.0.1:1", asToken: aaaaaaaaaaaaaaaaaaaa, hsToken: hhhhhhhhhhhhhhhhhhhh, listen: { host: 127.0.0.1, port: 0 } }',
    "  email: { hostname: parley.test, listen: { host: 127.0.0.1, port: 0 } }",
  ].join("\n"));
  return join(dir, "c.yaml");
}

/** Start `parley start` as its own process; resolves once it logged "parley started". */
async function startParley(role: string): Promise<ChildProcess> {
  const config = writeConfig();
  const p = spawn(process.execPath, ["--import", "tsx", join(root, "bin/parley.ts"), "start", "--config", config, "--role", role], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  child = p;
  let out = "";
  p.stdout.on("data", (c: Buffer) => { out += c.toString(); });
  p.stderr.on("data", (c: Buffer) => { out += c.toString(); });
  await until(`parley --role ${role} started`, () => {
    if (p.exitCode !== null) throw new Error(`parley exited ${p.exitCode}: ${out}`);
    return out.includes('"msg":"parley started"') ? true : undefined;
  }, 60_000, 100);
  return p;
}

/** Local TCP ports the process listens on: LISTEN rows of /proc/net/tcp{,6} whose inode is one of its fds. */
function listeningPorts(pid: number): number[] {
  const inodes = new Set(readdirSync(`/proc/${pid}/fd`).flatMap((fd) => {
    try { return [/^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1]].filter((x): x is string => x !== undefined); } catch { return []; }
  }));
  return ["/proc/net/tcp", "/proc/net/tcp6"].flatMap((f) => readFileSync(f, "utf8").split("\n").slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((cols) => cols[3] === "0A" && inodes.has(cols[9] ?? ""))
    .map((cols) => Number.parseInt(cols[1]!.split(":")[1]!, 16)));
}

describe("process roles (issue 14)", () => {
  it("--role workers binds no port: no LISTEN socket among the process's descriptors", async () => {
    const p = await startParley("workers");
    expect(listeningPorts(p.pid!)).toEqual([]);
  });

  it("--role all with the same config listens (SMTP, application service, media): the check sees listeners", async () => {
    const p = await startParley("all");
    // SMTP, the application-service endpoint and the media listener (the XMPP link only connects).
    await until("three listeners", () => (listeningPorts(p.pid!).length >= 3 ? true : undefined), 20_000, 100);
  });
});
