/**
 * A real Synapse for tests (issue 4, "Test harness"): a Python virtualenv with `matrix-synapse`
 * from PyPI in a cache outside the checkout, a generated homeserver config in a temporary
 * directory (SQLite, loopback port, registration shared secret, presence on, application-service
 * registration files, relaxed rate limits), start with a readiness wait, users registered through
 * the shared-secret admin API (`/_synapse/admin/v1/register`), and stop.
 *
 * Reusable by other tiers (the lead's XMPP ↔ Matrix test): everything here is plain functions.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { stringify } from "yaml";
import { freePort } from "../../support/ports.js";
export { freePort };

const run = promisify(execFile);

/** Where peers are cached: `${PARLEY_PEER_CACHE:-$HOME/.cache/parley/peers}`. */
export function peerCacheDir(): string {
  return process.env.PARLEY_PEER_CACHE ?? join(homedir(), ".cache", "parley", "peers");
}

export function synapseVenvDir(): string {
  return join(peerCacheDir(), "synapse-venv");
}

/**
 * Debian packages the venv needs (`python3 -m venv` needs `python3-venv`): checked with `dpkg -s`,
 * installed non-interactively when missing (team brief, "Peers"), after one `apt-get update`.
 */
async function ensureDebPackages(names: readonly string[]): Promise<void> {
  const missing: string[] = [];
  for (const n of names) if (!(await run("dpkg", ["-s", n]).then(() => true, () => false))) missing.push(n);
  if (missing.length === 0) return;
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  await run("apt-get", ["update"], { env, timeout: 600_000 });
  await run("apt-get", ["install", "-y", "-o", "DPkg::Lock::Timeout=600", ...missing], { env, timeout: 900_000 });
}

/** Create the virtualenv with matrix-synapse when missing (minutes the first time, instant after). */
export async function ensureSynapseVenv(): Promise<string> {
  const venv = synapseVenvDir();
  const python = join(venv, "bin", "python");
  if (existsSync(python)) {
    const ok = await run(python, ["-c", "import synapse.app.homeserver"]).then(() => true, () => false);
    if (ok) return python;
  }
  await mkdir(peerCacheDir(), { recursive: true });
  if (!existsSync(python)) {
    const venvWorks = await run("python3", ["-c", "import ensurepip, venv"]).then(() => true, () => false);
    if (!venvWorks) await ensureDebPackages(["python3", "python3-venv"]);
    await run("python3", ["-m", "venv", venv], { timeout: 120_000 });
  }
  await run(join(venv, "bin", "pip"), ["install", "-q", "matrix-synapse"], { timeout: 900_000, maxBuffer: 64 * 1024 * 1024 });
  return python;
}

/** A free TCP port on 127.0.0.1 (released before returning; the caller binds it next). */

export interface SynapseOptions {
  serverName?: string;
  /** Registration YAML texts (application services) to load at start. */
  appserviceRegistrations?: readonly string[];
  /** Keep this data directory (for a restart of the same homeserver); default: a new temp dir. */
  dataDir?: string;
  port?: number;
  /** Synapse's `presence.sync_online_timeout` (default 30 s): shorter makes puppet-presence timeouts testable. */
  presenceSyncOnlineTimeoutMs?: number;
}

export interface SynapseInstance {
  readonly baseUrl: string;
  readonly serverName: string;
  readonly port: number;
  readonly dataDir: string;
  readonly registrationSharedSecret: string;
  /** Stop the process (SIGTERM, then SIGKILL after 10 s). Keeps the data dir unless `cleanup`. */
  stop(opts?: { cleanup?: boolean }): Promise<void>;
  /** Start the same homeserver again after stop() (same port, same database). */
  restart(): Promise<void>;
  pid(): number | undefined;
}

function homeserverConfig(o: { serverName: string; port: number; dir: string; secret: string; registrations: string[]; syncOnlineTimeoutMs?: number | undefined }): string {
  const lenient = { per_second: 1000, burst_count: 1000 };
  return stringify({
    server_name: o.serverName,
    pid_file: join(o.dir, "homeserver.pid"),
    public_baseurl: `http://127.0.0.1:${o.port}/`,
    listeners: [{ port: o.port, bind_addresses: ["127.0.0.1"], type: "http", tls: false, x_forwarded: false, resources: [{ names: ["client"], compress: false }] }],
    database: { name: "sqlite3", args: { database: join(o.dir, "homeserver.db") } },
    log_config: join(o.dir, "log.config"),
    media_store_path: join(o.dir, "media"),
    signing_key_path: join(o.dir, "signing.key"),
    registration_shared_secret: o.secret,
    macaroon_secret_key: randomBytes(24).toString("hex"),
    form_secret: randomBytes(24).toString("hex"),
    report_stats: false,
    enable_registration: false,
    enable_registration_captcha: false,
    trusted_key_servers: [],
    suppress_key_server_warning: true,
    federation_domain_whitelist: [],
    url_preview_enabled: false,
    presence: { enabled: true, ...(o.syncOnlineTimeoutMs !== undefined ? { sync_online_timeout: o.syncOnlineTimeoutMs, last_active_granularity: Math.min(60_000, Math.ceil(o.syncOnlineTimeoutMs / 4)) } : {}) },
    app_service_config_files: o.registrations,
    rc_message: lenient,
    rc_registration: lenient,
    rc_login: { address: lenient, account: lenient, failed_attempts: lenient },
    rc_joins: { local: lenient, remote: lenient },
    rc_joins_per_room: lenient,
    rc_invites: { per_room: lenient, per_user: lenient, per_issuer: lenient },
    rc_presence: { per_user: lenient },
    rc_3pid_validation: lenient,
    rc_admin_redaction: lenient,
  });
}

function logConfig(dir: string): string {
  return stringify({
    version: 1,
    formatters: { precise: { format: "%(asctime)s - %(name)s - %(lineno)d - %(levelname)s - %(request)s - %(message)s" } },
    handlers: { file: { class: "logging.FileHandler", formatter: "precise", filename: join(dir, "homeserver.log") } },
    loggers: { synapse: { level: "INFO" }, "synapse.storage.SQL": { level: "WARNING" }, "synapse.access": { level: "WARNING" } },
    root: { level: "INFO", handlers: ["file"] },
    disable_existing_loggers: false,
  });
}

async function waitReady(baseUrl: string, child: ChildProcess, logFile: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      const log = await readFile(logFile, "utf8").catch(() => "");
      throw new Error(`synapse exited with ${child.exitCode}: ${log.slice(-2000)}`);
    }
    const ok = await fetch(`${baseUrl}/_matrix/client/versions`).then((r) => r.ok, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100)); // polling a condition, not a sleep-as-sync
  }
  throw new Error(`synapse not ready within ${timeoutMs} ms`);
}

/** Generate a config and start Synapse; resolves when its client API answers. */
export async function startSynapse(opts: SynapseOptions = {}): Promise<SynapseInstance> {
  const python = await ensureSynapseVenv();
  const serverName = opts.serverName ?? "matrix.example.org";
  const dir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), "parley-synapse-")));
  const port = opts.port ?? (await freePort());
  const secret = randomBytes(24).toString("hex");
  const registrations: string[] = [];
  for (const [i, text] of (opts.appserviceRegistrations ?? []).entries()) {
    const file = join(dir, `appservice-${i}.yaml`);
    await writeFile(file, text, { mode: 0o600 });
    registrations.push(file);
  }
  const configPath = join(dir, "homeserver.yaml");
  await writeFile(join(dir, "log.config"), logConfig(dir));
  await writeFile(configPath, homeserverConfig({ serverName, port, dir, secret, registrations, syncOnlineTimeoutMs: opts.presenceSyncOnlineTimeoutMs }), { mode: 0o600 });
  await run(python, ["-m", "synapse.app.homeserver", "--config-path", configPath, "--generate-keys"], { cwd: dir, timeout: 60_000 });
  const baseUrl = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;

  const launch = async () => {
    child = spawn(python, ["-m", "synapse.app.homeserver", "--config-path", configPath], { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
    child.stderr?.resume();
    await waitReady(baseUrl, child, join(dir, "homeserver.log"));
  };
  const stop = async (o: { cleanup?: boolean } = {}) => {
    const c = child;
    child = undefined;
    if (c && c.exitCode === null) {
      const exited = new Promise<void>((r) => c.once("exit", () => r()));
      c.kill("SIGTERM");
      const timer = setTimeout(() => c.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    }
    if (o.cleanup) await rm(dir, { recursive: true, force: true });
  };
  await launch();
  return {
    baseUrl, serverName, port, dataDir: dir, registrationSharedSecret: secret,
    stop, restart: launch, pid: () => child?.pid,
  };
}

export interface RegisteredUser {
  readonly userId: string;
  readonly accessToken: string;
  readonly password: string;
  readonly deviceId: string;
}

/** Register a user through the shared-secret admin API (HMAC-SHA1 over nonce, user, password, admin flag). */
export async function registerUser(baseUrl: string, sharedSecret: string, username: string, opts: { admin?: boolean; password?: string } = {}): Promise<RegisteredUser> {
  const url = `${baseUrl}/_synapse/admin/v1/register`;
  const { nonce } = (await (await fetch(url)).json()) as { nonce: string };
  const password = opts.password ?? randomBytes(12).toString("hex");
  const admin = opts.admin ?? false;
  const mac = createHmac("sha1", sharedSecret)
    .update(`${nonce}\0${username}\0${password}\0${admin ? "admin" : "notadmin"}`)
    .digest("hex");
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ nonce, username, password, admin, mac }) });
  const body = (await res.json()) as { user_id: string; access_token: string; device_id: string; error?: string };
  if (!res.ok) throw new Error(`register ${username}: ${res.status} ${body.error ?? ""}`);
  return { userId: body.user_id, accessToken: body.access_token, password, deviceId: body.device_id };
}
