/**
 * The `parley` command and the composition root (DESIGN §7): the one file that imports both the
 * adapter list and the core. Each subcommand parses its own arguments, prints what it has to
 * say, and sets the exit code: 0 ok, 1 problems found, 2 wrong usage.
 */
import { parseArgs } from "node:util";
import { adapterFactories } from "../adapters/index.js";
import { loadConfig, type GatewayConfig } from "../src/config/index.js";
import { loadMappingsFile, type DomainMappings } from "../src/mappings/index.js";
import { configCheckCommand, configSampleCommand, resolveCommand, type CommandDeps, type CommandOutput } from "../src/cli/index.js";
import { buildGateway, type Role } from "../src/build.js";
import { createLogger } from "../src/log/logger.js";
import { isParleyError } from "../src/errors/parley-error.js";
import { adminCommand } from "./admin-commands.js";
import { matrixRegistrationCommand } from "./matrix-registration.js";

const deps: CommandDeps = {
  networks: adapterFactories.map((f) => ({ id: f.id, addressing: f.addressing })),
  adapterSchemas: adapterFactories,
  env: process.env,
};

export const USAGE = `usage: parley <command> [options]

  start [--config FILE] [--role all|ingress|workers]   run the gateway
  config check [--config FILE] [--mappings FILE]       validate config and mappings
  config sample                                        print a documented config
  resolve ADDRESS [--on NETWORK] …                     how an address appears on each network
  dlq list|retry ID|drop ID [--config FILE]            messages that failed for good
  presence show ADDRESS [--config FILE]                stored presence of a presentity
  subscriptions list ADDRESS [--config FILE]           who watches a presentity
  matrix registration [--config FILE] [--url URL] [--out FILE]
                                                       write the application-service registration
  doctor [--config FILE]                               check a deployment, say how to fix it`;

function print(out: CommandOutput): number {
  for (const line of out.lines) (out.exitCode === 0 ? console.log : console.error)(line);
  return out.exitCode;
}

/** Load and validate config and mappings, or print every problem. */
export async function loadAll(configPath: string | undefined): Promise<{ config: GatewayConfig; mappings: DomainMappings } | CommandOutput> {
  const loaded = await loadConfig(configPath, { adapters: adapterFactories, env: process.env });
  if (!loaded.ok) return { exitCode: 1, lines: loaded.error.lines() };
  const mappings = await loadMappingsFile(loaded.config.mappings, deps.networks);
  if (!mappings.ok) return { exitCode: 1, lines: mappings.error.lines() };
  return { config: loaded.config, mappings: mappings.mappings };
}

async function start(args: readonly string[]): Promise<number> {
  const { values } = parseArgs({ args: [...args], options: { config: { type: "string" }, role: { type: "string", default: "all" } } });
  const role = values.role as Role;
  if (!["all", "ingress", "workers"].includes(role)) return print({ exitCode: 2, lines: [`parley: --role must be all, ingress or workers, not "${role}"`] });
  const loaded = await loadAll(values.config);
  if ("exitCode" in loaded) return print(loaded);
  const log = createLogger({ level: loaded.config.log.level });
  const built = await buildGateway({ config: loaded.config, mappings: loaded.mappings, factories: adapterFactories, log, role });
  await built.start();
  log.info({ role, networks: Object.keys(loaded.config.adapters) }, "parley started");
  await new Promise<void>((resolve) => {
    const shutdown = (signal: string) => {
      log.info({ signal }, "stopping: ingress first, then draining deliveries, then the links, then Redis");
      // A stop that hangs (a peer that never answers a close) must not hold a restart back.
      setTimeout(() => { log.error("stop did not finish within 3 s; exiting"); process.exit(1); }, 3_000).unref();
      built.stop().then(resolve, (e: unknown) => { log.error({ err: (e as Error).message }, "unclean stop"); resolve(); });
    };
    process.once("SIGTERM", () => shutdown("SIGTERM"));
    process.once("SIGINT", () => shutdown("SIGINT"));
  });
  log.info("parley stopped");
  // Exit now: a library timer or socket left behind must not keep a stopped gateway alive.
  process.exit(0);
}

async function main(argv: readonly string[]): Promise<number> {
  const [command, sub, ...rest] = argv;
  switch (command) {
    case "start":
      return start(argv.slice(1));
    case "config":
      if (sub === "check") return print(await configCheckCommand(rest, deps));
      if (sub === "sample") return print(configSampleCommand(deps));
      return print({ exitCode: 2, lines: ["usage: parley config check|sample …"] });
    case "resolve":
      return print(await resolveCommand(argv.slice(1), deps));
    case "dlq":
    case "presence":
    case "subscriptions":
      return print(await adminCommand(command, argv.slice(1), { factories: adapterFactories, loadAll }));
    case "matrix":
      if (sub === "registration") return print(await matrixRegistrationCommand(rest, loadAll));
      return print({ exitCode: 2, lines: ["usage: parley matrix registration …"] });
    case "doctor": return print(await (await import("./doctor-checks.js")).doctorMain(argv.slice(1), loadAll));
    case "docker-init": return print(await (await import("./docker-init.js")).dockerInitCommand(argv.slice(1)));
    case undefined:
    case "help":
    case "--help":
    case "-h":
      return print({ exitCode: command === undefined ? 2 : 0, lines: [USAGE] });
    default:
      return print({ exitCode: 2, lines: [`parley: unknown command "${command}"`, USAGE] });
  }
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (e: unknown) => {
    console.error(isParleyError(e) ? `parley: ${e.code}: ${e.message}` : `parley: ${(e as Error).stack ?? String(e)}`);
    process.exitCode = 1;
  },
);
