/**
 * The Matrix part of `parley docker-init`:
 *
 *   secrets/matrix-as-token         the application service's tokens, for Parley's _FILE variables
 *   secrets/matrix-hs-token
 *   matrix-registration.yaml        the registration for Synapse (writeRegistration, fresh tokens)
 *   SYNAPSE_DIR/homeserver.yaml     with --synapse-dir: a Synapse config loading the registration,
 *   SYNAPSE_DIR/signing.key           and its signing key
 *
 * Tokens already in a registration are reused for the token files, so a restart keeps them.
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { join, resolve } from "node:path";
import { parse, stringify } from "yaml";
import type { AdapterProvisioning, ProvisionContext } from "../../src/adapter/declarations.js";
import { matrixSettings } from "./address.js";
import { writeRegistration } from "./registration.js";

const REGISTRATION = "matrix-registration.yaml";

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

function tokensOf(ctx: ProvisionContext): { asToken: string; hsToken: string } | undefined {
  const text = ctx.read(REGISTRATION);
  if (text === undefined) return undefined;
  const r = parse(text) as { as_token?: string; hs_token?: string };
  return r.as_token && r.hs_token ? { asToken: r.as_token, hsToken: r.hs_token } : undefined;
}

export const matrixProvisioning: AdapterProvisioning = {
  options: {
    "matrix-url": { default: "http://parley:9471", valueName: "URL" },
    "homeserver-url": { default: "http://synapse:8008", valueName: "URL" },
    "synapse-dir": { valueName: "DIR" },
    "registration-path": { default: "/parley-data/matrix-registration.yaml", valueName: "PATH" },
  },
  provision(ctx) {
    const written = writeRegistration({ id: "parley", url: ctx.options["matrix-url"]!, mappings: ctx.mappings, ...(tokensOf(ctx) ?? {}) });
    ctx.file(REGISTRATION, () => written.yaml, 0o600);
    ctx.file("secrets/matrix-as-token", () => `${written.asToken}\n`, 0o600);
    ctx.file("secrets/matrix-hs-token", () => `${written.hsToken}\n`, 0o600);
    const synapseOption = ctx.options["synapse-dir"];
    if (synapseOption !== undefined) {
      const synapseDir = resolve(synapseOption);
      ctx.file(join(synapseDir, "homeserver.yaml"), () => homeserverYaml(matrixSettings(ctx.mappings).serverName, ctx.options["registration-path"]!), 0o600);
      ctx.file(join(synapseDir, "signing.key"), synapseSigningKey, 0o600);
    }
    // The tokens reach Parley through PARLEY_ADAPTERS__MATRIX__AS_TOKEN_FILE / __HS_TOKEN_FILE.
    return { homeserverUrl: ctx.options["homeserver-url"], appserviceId: "parley", registrationFile: join(ctx.dir, REGISTRATION), listen: { host: "0.0.0.0", port: 9471 } };
  },
};
