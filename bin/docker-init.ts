/**
 * `parley docker-init --dir DIR …`: the first-start step of the Docker deployment
 * (docker/compose.yaml, service `parley-init`). Generates into DIR what the containers share:
 *
 *   secrets/admin-token             bearer token of the admin API
 *   blobs/                          the blob store (`media.dir`)
 *   parley.yaml                     Parley's config, secrets referenced as files (never inline)
 *
 * and, for each network whose factory declares `provisioning`, its files (a component secret,
 * an application service registration, …) and its section of parley.yaml; each network's
 * options join the command line's.
 *
 * Idempotent: an existing file is never overwritten, so secrets survive restarts and upgrades.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import { stringify } from "yaml";
import { adapterFactories } from "../adapters/index.js";
import type { AdapterFactory } from "../src/adapter/contract.js";
import type { ProvisionContext, ProvisionOption } from "../src/adapter/declarations.js";
import { loadMappingsFile } from "../src/mappings/index.js";
import type { CommandOutput } from "../src/cli/index.js";
import { errorMessage } from "../src/errors/message.js";

/** Where the other containers find the shared files (compose mounts DIR there). */
const CORE_OPTIONS = {
  mappings: { default: "/app/mappings/domains.example.yaml", valueName: "FILE" },
  "redis-url": { default: "redis://redis:6379", valueName: "URL" },
};

type Factories = readonly AdapterFactory<unknown>[];
const provisioned = (factories: Factories) => factories.flatMap((f) => (f.provisioning ? [{ id: f.id, provisioning: f.provisioning }] : []));

function optionsOf(factories: Factories): Record<string, ProvisionOption> {
  return Object.assign({}, CORE_OPTIONS, ...provisioned(factories).map((p) => p.provisioning.options)) as Record<string, ProvisionOption>;
}

export function dockerInitUsage(factories: Factories = adapterFactories): string {
  return `usage: parley docker-init --dir DIR ${Object.entries(optionsOf(factories)).map(([name, o]) => `[--${name} ${o.valueName}]`).join(" ")}`;
}

/** Writes each file once, and says what it created and what it kept. */
class Writer implements Omit<ProvisionContext, "mappings" | "options"> {
  readonly lines: string[] = [];
  constructor(readonly dir: string) {}
  file(name: string, make: () => string, mode: number): void {
    const path = resolve(this.dir, name);
    if (existsSync(path)) {
      this.lines.push(`kept     ${path}`);
      return;
    }
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, make(), { mode });
    this.lines.push(`created  ${path}`);
  }
  read(name: string): string | undefined {
    const path = resolve(this.dir, name);
    return existsSync(path) ? readFileSync(path, "utf8") : undefined;
  }
}

function parleyYaml(o: { mappings: string; redisUrl: string; dir: string; adapters: Record<string, unknown> }): string {
  return `# Parley's config for the compose deployment (written once by parley docker-init; edit freely).
# Secrets are not in this file: the compose file points Parley at them with _FILE variables
# (PARLEY_ADAPTERS__<NETWORK>__<KEY>_FILE, see docs/configuration.md).
${stringify({
    mappings: resolve(o.mappings),
    redis: { url: o.redisUrl, keyPrefix: "parley:" },
    admin: { enabled: true, host: "0.0.0.0", port: 8780, tokenFile: join(o.dir, "secrets", "admin-token") },
    media: { dir: join(o.dir, "blobs") },
    adapters: o.adapters,
  })}`;
}

function parseOptions(args: readonly string[], factories: Factories): Record<string, string | undefined> {
  const options: ParseArgsOptionsConfig = { dir: { type: "string" } };
  for (const [name, o] of Object.entries(optionsOf(factories))) options[name] = o.default === undefined ? { type: "string" } : { type: "string", default: o.default };
  return parseArgs({ args: [...args], strict: true, allowPositionals: false, options }).values as Record<string, string | undefined>;
}

export async function dockerInitCommand(args: readonly string[], factories: Factories = adapterFactories): Promise<CommandOutput> {
  let values;
  try {
    values = parseOptions(args, factories);
  } catch (e) {
    return { exitCode: 2, lines: [`parley: ${errorMessage(e)}`, dockerInitUsage(factories)] };
  }
  if (values.dir === undefined) return { exitCode: 2, lines: ["parley: docker-init needs --dir", dockerInitUsage(factories)] };
  const mappingsFile = values.mappings!;
  const mappings = await loadMappingsFile(mappingsFile, factories.map((f) => ({ id: f.id, addressing: f.addressing })));
  if (!mappings.ok) return { exitCode: 1, lines: [...mappings.error.lines(), "fix the mappings first (parley config check --mappings FILE)"] };
  const dir = resolve(values.dir);
  // 0711: other containers' users (Prosody) may open a file they know the name of, not list them.
  mkdirSync(join(dir, "secrets"), { recursive: true, mode: 0o711 });
  mkdirSync(join(dir, "blobs"), { recursive: true });
  const w = new Writer(dir);
  w.file("secrets/admin-token", () => `${randomBytes(32).toString("hex")}\n`, 0o600);
  const adapters: Record<string, unknown> = {};
  for (const p of provisioned(factories)) {
    adapters[p.id] = p.provisioning.provision({ dir, mappings: mappings.mappings, options: values, file: (n, m, mode) => w.file(n, m, mode), read: (n) => w.read(n) });
  }
  w.file("parley.yaml", () => parleyYaml({ mappings: mappingsFile, redisUrl: values["redis-url"]!, dir, adapters }), 0o644);
  return { exitCode: 0, lines: w.lines };
}
