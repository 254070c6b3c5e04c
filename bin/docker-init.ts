/**
 * `parley docker-init --dir DIR …`: the first-start step of the Docker deployment
 * (docker/compose.yaml, service `parley-init`). Generates into DIR what the containers share:
 *
 *   secrets/xmpp-component-secret   XEP-0114 handshake secret (read by Prosody's config and Parley)
 *   secrets/admin-token             bearer token of the admin API
 *   secrets/matrix-as-token         the application service's tokens, for Parley's _FILE variables
 *   secrets/matrix-hs-token
 *   matrix-registration.yaml        the registration for Synapse (writeRegistration, fresh tokens)
 *   parley.yaml                     Parley's config, secrets referenced as files (never inline)
 *   SYNAPSE_DIR/homeserver.yaml     with --synapse-dir: a Synapse config loading the registration,
 *   SYNAPSE_DIR/signing.key           and its signing key
 *
 * Idempotent: an existing file is never overwritten, so secrets survive restarts and upgrades;
 * tokens already in a registration are reused for the token files.
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { parse, stringify } from "yaml";
import { adapterFactories } from "../adapters/index.js";
import { writeRegistration } from "../adapters/matrix/index.js";
import { matrixSettings } from "../adapters/matrix/address.js";
import { loadMappingsFile } from "../src/mappings/index.js";
import type { CommandOutput } from "../src/cli/index.js";

export const DOCKER_INIT_USAGE = `usage: parley docker-init --dir DIR [--mappings FILE] [--synapse-dir DIR] [--matrix-url URL]
       [--homeserver-url URL] [--xmpp-host HOST] [--redis-url URL] [--relay HOST:PORT] [--registration-path PATH]`;

/** Where the other containers find the shared files (compose mounts DIR there). */
const DEFAULTS = {
  mappings: "/app/mappings/domains.example.yaml",
  matrixUrl: "http://parley:9471",
  homeserverUrl: "http://synapse:8008",
  xmppHost: "prosody",
  redisUrl: "redis://redis:6379",
  relay: "smtp-relay:25",
  registrationPath: "/parley-data/matrix-registration.yaml",
};

class Writer {
  readonly lines: string[] = [];
  constructor(private readonly dir: string) {}
  /** Write `name` unless it exists; `make` runs only when it does not. */
  file(name: string, make: () => string, mode: number): void {
    const path = join(this.dir, name);
    if (existsSync(path)) {
      this.lines.push(`kept     ${path}`);
      return;
    }
    writeFileSync(path, make(), { mode });
    this.lines.push(`created  ${path}`);
  }
}

/** Synapse's signing key format: `ed25519 <key id> <unpadded base64 seed>`. */
function synapseSigningKey(): string {
  const { privateKey } = generateKeyPairSync("ed25519");
  const seed = Buffer.from(privateKey.export({ format: "jwk" }).d!, "base64url");
  return `ed25519 a_${randomBytes(3).toString("hex")} ${seed.toString("base64").replace(/=+$/, "")}\n`;
}

function homeserverYaml(serverName: string, registrationPath: string): string {
  return `# Synapse for the Parley compose deployment (written once by parley docker-init; edit freely).\n${stringify({
    server_name: serverName,
    pid_file: "/data/homeserver.pid",
    listeners: [{ port: 8008, bind_addresses: ["0.0.0.0"], type: "http", tls: false, x_forwarded: true, resources: [{ names: ["client", "federation"], compress: false }] }],
    database: { name: "sqlite3", args: { database: "/data/homeserver.db" } },
    media_store_path: "/data/media_store",
    signing_key_path: "/data/signing.key",
    registration_shared_secret: randomBytes(32).toString("base64url"),
    macaroon_secret_key: randomBytes(32).toString("base64url"),
    form_secret: randomBytes(32).toString("base64url"),
    report_stats: false,
    enable_registration: false,
    trusted_key_servers: [{ server_name: "matrix.org" }],
    suppress_key_server_warning: true,
    presence: { enabled: true },
    app_service_config_files: [registrationPath],
  })}`;
}

function parleyYaml(o: { mappings: string; redisUrl: string; xmppHost: string; homeserverUrl: string; relay: string; dir: string }): string {
  const [relayHost, relayPort] = o.relay.split(":");
  return `# Parley's config for the compose deployment (written once by parley docker-init; edit freely).
# Secrets are not in this file: the compose file points Parley at them with _FILE variables
# (PARLEY_ADAPTERS__XMPP__COMPONENT_SECRET_FILE, …__MATRIX__AS_TOKEN_FILE, …__MATRIX__HS_TOKEN_FILE).
${stringify({
    mappings: resolve(o.mappings),
    redis: { url: o.redisUrl, keyPrefix: "parley:" },
    admin: { enabled: true, host: "0.0.0.0", port: 8780, tokenFile: join(o.dir, "secrets", "admin-token") },
    adapters: {
      xmpp: { host: o.xmppHost, port: 5347 },
      matrix: { homeserverUrl: o.homeserverUrl, appserviceId: "parley", registrationFile: join(o.dir, "matrix-registration.yaml"), listen: { host: "0.0.0.0", port: 9471 } },
      email: {
        listen: { host: "0.0.0.0", port: 2525 },
        outbound: { mode: "relay", host: relayHost, port: Number(relayPort ?? 25) },
        blobDir: join(o.dir, "blobs"),
      },
    },
  })}`;
}

function tokensOf(registrationFile: string): { asToken: string; hsToken: string } | undefined {
  if (!existsSync(registrationFile)) return undefined;
  const r = parse(readFileSync(registrationFile, "utf8")) as { as_token?: string; hs_token?: string };
  return r.as_token && r.hs_token ? { asToken: r.as_token, hsToken: r.hs_token } : undefined;
}

export async function dockerInitCommand(args: readonly string[]): Promise<CommandOutput> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args], strict: true, allowPositionals: false,
      options: {
        dir: { type: "string" }, mappings: { type: "string", default: DEFAULTS.mappings }, "synapse-dir": { type: "string" },
        "matrix-url": { type: "string", default: DEFAULTS.matrixUrl }, "homeserver-url": { type: "string", default: DEFAULTS.homeserverUrl },
        "xmpp-host": { type: "string", default: DEFAULTS.xmppHost }, "redis-url": { type: "string", default: DEFAULTS.redisUrl },
        relay: { type: "string", default: DEFAULTS.relay }, "registration-path": { type: "string", default: DEFAULTS.registrationPath },
      },
    }));
  } catch (e) {
    return { exitCode: 2, lines: [`parley: ${(e as Error).message}`, DOCKER_INIT_USAGE] };
  }
  if (values.dir === undefined) return { exitCode: 2, lines: ["parley: docker-init needs --dir", DOCKER_INIT_USAGE] };
  const mappings = await loadMappingsFile(values.mappings, adapterFactories.map((f) => ({ id: f.id, addressing: f.addressing })));
  if (!mappings.ok) return { exitCode: 1, lines: [...mappings.error.lines(), "fix the mappings first (parley config check --mappings FILE)"] };
  const dir = resolve(values.dir);
  // 0711: other containers' users (Prosody) may open a file they know the name of, not list them.
  mkdirSync(join(dir, "secrets"), { recursive: true, mode: 0o711 });
  mkdirSync(join(dir, "blobs"), { recursive: true });
  const w = new Writer(dir);
  const secret = () => `${randomBytes(32).toString("hex")}\n`;
  // Prosody (another user in its container) reads this one: world-readable inside the volume.
  w.file("secrets/xmpp-component-secret", secret, 0o644);
  w.file("secrets/admin-token", secret, 0o600);
  const registrationFile = join(dir, "matrix-registration.yaml");
  const existing = tokensOf(registrationFile);
  const written = writeRegistration({ id: "parley", url: values["matrix-url"], mappings: mappings.mappings, ...(existing ?? {}) });
  w.file("matrix-registration.yaml", () => written.yaml, 0o600);
  w.file("secrets/matrix-as-token", () => `${written.asToken}\n`, 0o600);
  w.file("secrets/matrix-hs-token", () => `${written.hsToken}\n`, 0o600);
  w.file("parley.yaml", () => parleyYaml({ mappings: values.mappings, redisUrl: values["redis-url"], xmppHost: values["xmpp-host"], homeserverUrl: values["homeserver-url"], relay: values.relay, dir }), 0o644);
  const lines = [...w.lines];
  const synapseDir = values["synapse-dir"];
  if (synapseDir !== undefined) {
    mkdirSync(synapseDir, { recursive: true });
    const s = new Writer(resolve(synapseDir));
    s.file("homeserver.yaml", () => homeserverYaml(matrixSettings(mappings.mappings).serverName, values["registration-path"]), 0o600);
    s.file("signing.key", synapseSigningKey, 0o600);
    lines.push(...s.lines);
  }
  return { exitCode: 0, lines };
}
