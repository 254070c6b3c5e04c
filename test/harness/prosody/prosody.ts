/**
 * A private Prosody for tests (STACK.md "Prosody 0.12"): installed from Debian when missing, run in
 * the foreground with its own config, data dir, pid file and log in a temporary directory, on free
 * loopback ports, with the component domains a test's mappings need. Never touches /etc/prosody
 * or the system service.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../../support/ports.js";
export { freePort };

/** What tests get through vitest's provide/inject: plain JSON, no functions. */
export interface ProsodyCoordinates {
  readonly dir: string;
  readonly configPath: string;
  readonly pidFile: string;
  readonly host: string;
  readonly c2sPort: number;
  readonly componentPort: number;
  /** The VirtualHost whose users are real XMPP users. */
  readonly userDomain: string;
  /** Every component domain declared, all with `componentSecret`. */
  readonly componentDomains: readonly string[];
  readonly componentSecret: string;
  /** Pre-registered users (localpart → password) on `userDomain`. */
  readonly users: Readonly<Record<string, string>>;
  /** Prosody's HTTP port, serving `mod_http_file_share` (XEP-0363) on the component `uploadDomain`. */
  readonly httpPort: number;
  /** The XEP-0363 upload component (`upload.<userDomain>`). */
  readonly uploadDomain: string;
  /** Host name in upload URLs (`http://localhost:<httpPort>/file_share/…`): what a gateway's fetcher must allow. */
  readonly uploadHost: string;
  /** Largest upload Prosody accepts, in bytes. */
  readonly uploadLimit: number;
}

export interface ProsodyOptions {
  userDomain?: string;
  componentDomains?: readonly string[];
  users?: readonly string[];
  /** Bytes Prosody accepts in one c2s stanza (its own default is 256 KiB in 0.12). */
  c2sStanzaLimit?: number;
  /** Load the harness's own modules (plugins/): `harness_throttle`, a per-user inbound message budget. */
  harnessModules?: boolean;
}

/** The harness's own Prosody modules (plugins/mod_*.lua). */
const HARNESS_PLUGINS = fileURLToPath(new URL("./plugins", import.meta.url));

/**
 * Debian packages the harness runs: `prosody`, and `prosody-modules` for `mod_muc_moderation`
 * (XEP-0425) on the moderated MUC component (installed into Prosody's own module directory).
 */
const PROSODY_PACKAGES = ["prosody", "prosody-modules"];

/** Install Debian's `prosody` (and `prosody-modules`) when missing (root only; otherwise say the exact command). */
export function ensureProsodyInstalled(): void {
  // `prosody --version` starts a daemon (STACK.md): ask dpkg instead.
  const missing = PROSODY_PACKAGES.filter((p) => spawnSync("dpkg", ["-s", p], { stdio: "ignore" }).status !== 0);
  if (missing.length === 0) return;
  const install = `DEBIAN_FRONTEND=noninteractive apt-get install -y -o DPkg::Lock::Timeout=600 ${missing.join(" ")}`;
  if (process.getuid?.() !== 0) {
    throw new Error(`Prosody is not installed. Run as root: apt-get update && ${install}`);
  }
  const update = spawnSync("apt-get", ["update"], { stdio: "inherit" });
  if (update.status !== 0) throw new Error("apt-get update failed");
  const r = spawnSync("sh", ["-c", install], { stdio: "inherit" });
  if (r.status !== 0) throw new Error(`"${install}" failed with status ${r.status}`);
}


function lua(s: string): string {
  return JSON.stringify(s);
}

export function prosodyConfig(c: Omit<ProsodyCoordinates, "users" | "configPath">, c2sStanzaLimit: number, harnessModules = false): string {
  const components = c.componentDomains
    .map((d) => `Component ${lua(d)}\n  component_secret = ${lua(c.componentSecret)}\n`)
    .join("\n");
  return `-- written by test/harness/prosody
run_as_root = true
daemonize = false
pidfile = ${lua(c.pidFile)}
data_path = ${lua(join(c.dir, "data"))}
log = { { levels = { min = "info" }, to = "file", filename = ${lua(join(c.dir, "prosody.log"))} } }
interfaces = { ${lua(c.host)} }
local_interfaces = { ${lua(c.host)} }
c2s_ports = { ${c.c2sPort} }
component_ports = { ${c.componentPort} }
component_interfaces = { ${lua(c.host)} }
s2s_ports = { }
http_ports = { ${c.httpPort} }
http_interfaces = { ${lua(c.host)} }
https_ports = { }
-- XEP-0363 uploads (mod_http_file_share) at http://<uploadHost>:<httpPort>/file_share/…
http_default_host = ${lua(c.uploadDomain)}
http_external_url = ${lua(`http://${c.uploadHost}:${c.httpPort}/`)}
plugin_paths = { ${harnessModules ? lua(HARNESS_PLUGINS) : ""} }
modules_enabled = { "roster", "saslauth", "disco", "ping", "presence", "message", "iq", "posix", "offline", "blocklist", "pep", "vcard_legacy"${harnessModules ? ', "harness_throttle"' : ""} }
-- Profiles (issue 15): vcard-temp (XEP-0054) served from PEP vCard4 (XEP-0292) and avatars (XEP-0084), and the XEP-0153 avatar hash in presence, as Prosody's default config has them.
modules_disabled = { "s2s", "tls", "carbons", "smacks", "limits" }
authentication = "internal_hashed"
storage = "internal"
default_iteration_count = 1000
c2s_require_encryption = false
s2s_require_encryption = false
allow_unencrypted_plain_auth = true
-- @xmpp/client 0.13 sends an empty SCRAM-SHA-1 response under Node 24 (malformed-request): offer PLAIN only (loopback tests).
disable_sasl_mechanisms = { "SCRAM-SHA-1", "DIGEST-MD5" }
c2s_stanza_size_limit = ${c2sStanzaLimit}
certificates = ${lua(join(c.dir, "certs"))}

VirtualHost ${lua(c.userDomain)}

-- XEP-0045 rooms for the rooms tests (issue 12): non-anonymous, so occupants' real JIDs show.
Component ${lua(`conference.${c.userDomain}`)} "muc"
  restrict_room_creation = false
  muc_room_locking = false
  muc_room_default_public_jids = true

-- XEP-0425 moderation (issue 18): a second MUC host with MAM (the room's stanza-ids) and
-- mod_muc_moderation from Debian's prosody-modules, apart from the shared one so that MAM changes
-- no other room test.
Component ${lua(`moderated.${c.userDomain}`)} "muc"
  restrict_room_creation = false
  muc_room_locking = false
  muc_room_default_public_jids = true
  modules_enabled = { "muc_mam", "muc_moderation" }

Component ${lua(c.uploadDomain)} "http_file_share"
  http_file_share_size_limit = ${c.uploadLimit}
  http_file_share_daily_quota = ${c.uploadLimit * 100}

${components}`;
}

export function registerUser(configPath: string, user: string, domain: string, password: string): void {
  const r = spawnSync("prosodyctl", ["--config", configPath, "register", user, domain, password], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`prosodyctl register ${user}@${domain} failed: ${r.stderr || r.stdout}`);
}

/** Write config and users for a new private Prosody (not yet started). */
export async function prepareProsody(opts: ProsodyOptions = {}): Promise<ProsodyCoordinates> {
  ensureProsodyInstalled();
  const dir = mkdtempSync(join(tmpdir(), "parley-prosody-"));
  mkdirSync(join(dir, "data"));
  mkdirSync(join(dir, "certs"));
  const base = {
    dir,
    pidFile: join(dir, "prosody.pid"),
    host: "127.0.0.1",
    c2sPort: await freePort(),
    componentPort: await freePort(),
    userDomain: opts.userDomain ?? "xmpp.test",
    componentDomains: opts.componentDomains ?? ["matrix.test", "matrix.gw.test", "email.gw.test"],
    componentSecret: randomBytes(12).toString("hex"),
    httpPort: await freePort(),
    uploadDomain: `upload.${opts.userDomain ?? "xmpp.test"}`,
    uploadHost: "localhost",
    uploadLimit: 16 * 1024 * 1024,
  };
  const configPath = join(dir, "prosody.cfg.lua");
  writeFileSync(configPath, prosodyConfig(base, opts.c2sStanzaLimit ?? 4 * 1024 * 1024, opts.harnessModules));
  const users: Record<string, string> = {};
  for (const u of opts.users ?? []) {
    users[u] = `pw-${u}-${randomBytes(4).toString("hex")}`;
    registerUser(configPath, u, base.userDomain, users[u]);
  }
  return { ...base, configPath, users };
}

async function portOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host, port });
    s.once("connect", () => { s.destroy(); resolve(true); });
    s.once("error", () => resolve(false));
  });
}

/** Start Prosody in the foreground; resolves once both its c2s and component ports listen. */
export async function startProsody(c: ProsodyCoordinates, timeoutMs = 20_000): Promise<ChildProcess> {
  // Its own process group: a Ctrl-C meant for the caller's group (the demo) does not reach it, so
  // the caller's own stop decides when it goes, and waits for it.
  const child = spawn("prosody", ["-F", "--config", c.configPath], { stdio: ["ignore", "ignore", "pipe"], detached: true });
  child.unref();
  (child.stderr as (NodeJS.ReadableStream & { unref?: () => void }) | null)?.unref?.();
  if (child.pid !== undefined) writeFileSync(harnessPidFile(c), String(child.pid));
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => { stderr += d.toString(); });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`prosody exited with ${child.exitCode}: ${stderr}\n${readLog(c)}`);
    if (existsSync(c.pidFile) && (await portOpen(c.host, c.c2sPort)) && (await portOpen(c.host, c.componentPort))) return child;
    await new Promise((r) => setTimeout(r, 50)); // polling a port, not synchronising on time
  }
  child.kill("SIGKILL");
  throw new Error(`prosody did not listen within ${timeoutMs} ms: ${stderr}\n${readLog(c)}`);
}

export function readLog(c: Pick<ProsodyCoordinates, "dir">): string {
  const f = join(c.dir, "prosody.log");
  return existsSync(f) ? readFileSync(f, "utf8") : "";
}

/** The pid the harness started, kept beside Prosody's own pid file (which Prosody removes as it exits). */
function harnessPidFile(c: Pick<ProsodyCoordinates, "dir">): string {
  return join(c.dir, "harness.pid");
}

function readPid(file: string): number | undefined {
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, "utf8").trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

function pidOf(c: ProsodyCoordinates): number | undefined {
  return readPid(c.pidFile) ?? readPid(harnessPidFile(c));
}

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

/** Stop the Prosody of these coordinates (by its own pid file), `SIGKILL` for a crash. */
export async function stopProsody(c: ProsodyCoordinates, signal: "SIGTERM" | "SIGKILL" = "SIGTERM", timeoutMs = 10_000): Promise<void> {
  const pid = pidOf(c);
  if (pid === undefined || !alive(pid)) return;
  process.kill(pid, signal);
  const deadline = Date.now() + timeoutMs;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (alive(pid)) process.kill(pid, "SIGKILL");
  while (alive(pid)) await new Promise((r) => setTimeout(r, 20));
  rmSync(c.pidFile, { force: true });
  rmSync(harnessPidFile(c), { force: true });
}

export function removeProsodyDir(c: ProsodyCoordinates): void {
  rmSync(c.dir, { recursive: true, force: true });
}
