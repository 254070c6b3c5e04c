/**
 * The `parley` command for a given list of adapter factories: `bin/parley.ts` hands it the list
 * from `adapters/index.ts`, tests hand it a list with a network of their own. Each subcommand
 * parses its own arguments and returns what to print with the exit code: 0 ok, 1 problems found,
 * 2 wrong usage. Nothing here names a network: each adapter's subcommands, doctor checks, config
 * section and docs come from its factory.
 */
import type { AdapterFactory } from "../adapter/contract.js";
import { loadConfig } from "../config/index.js";
import { loadMappingsFile } from "../mappings/index.js";
import { adminCommand } from "./admin-commands.js";
import { configCheckCommand, configSampleCommand, resolveCommand, type CommandDeps } from "./commands.js";
import type { CommandOutput } from "./config-check.js";
import { doctorCommand, doctorsOf, type LoadAll } from "./doctor.js";
import { traceCommand } from "./trace.js";
import { redactUrlSecrets } from "../log/redact-url.js";
import { createProducerClient, keyspace, RedisAdapterStateStore, waitForReady } from "../store/index.js";
import { errorMessage } from "../errors/message.js";

/** The usage text, with each adapter's subcommands. */
export function usage(factories: readonly AdapterFactory<unknown>[]): string {
  const adapterLines = factories.flatMap((f) => (f.commands ?? []).flatMap((c) => [`  ${f.id} ${c.name} ${c.usage}`, `${" ".repeat(55)}${c.summary}`]));
  return [
    "usage: parley <command> [options]",
    "",
    "  start [--config FILE] [--role all|ingress|workers]   run the gateway",
    "  config check [--config FILE] [--mappings FILE]       validate config and mappings",
    "  config sample                                        print a documented config",
    "  resolve ADDRESS [--on NETWORK] …                     how an address appears on each network",
    "  dlq list|retry ID|drop ID [--config FILE]            messages that failed for good",
    "  trace ID|NATIVE-ID|ADDRESS [--last N] [--json]       what happened to a message, hop by hop",
    "  presence show ADDRESS [--config FILE]                stored presence of a presentity",
    "  subscriptions list ADDRESS [--config FILE]           who watches a presentity",
    ...adapterLines,
    "  doctor [--config FILE]                               check a deployment, say how to fix it",
  ].join("\n");
}

/** Load and validate config and mappings, or say every problem. */
export function loaderFor(factories: readonly AdapterFactory<unknown>[], env: Readonly<Record<string, string | undefined>>): LoadAll {
  const networks = factories.map((f) => ({ id: f.id, addressing: f.addressing }));
  return async (configPath) => {
    const loaded = await loadConfig(configPath, { adapters: factories, env });
    if (!loaded.ok) return { exitCode: 1, lines: loaded.error.lines() };
    const mappings = await loadMappingsFile(loaded.config.mappings, networks);
    if (!mappings.ok) return { exitCode: 1, lines: mappings.error.lines() };
    return { config: loaded.config, mappings: mappings.mappings };
  };
}

/** `parley <network> <name> …`: an adapter's own subcommand. */
function adapterCommand(factory: AdapterFactory<unknown>, name: string | undefined, args: readonly string[], loadAll: LoadAll): Promise<CommandOutput> | CommandOutput {
  const command = factory.commands?.find((c) => c.name === name);
  if (!command) return { exitCode: 2, lines: [`usage: parley ${factory.id} ${(factory.commands ?? []).map((c) => c.name).join("|")} …`] };
  return command.run(args, {
    load: async (configPath) => {
      const loaded = await loadAll(configPath);
      return "exitCode" in loaded ? loaded : { section: loaded.config.adapters[factory.id], mappings: loaded.mappings };
    },
    withState: async (configPath, use) => {
      const loaded = await loadAll(configPath);
      if ("exitCode" in loaded) return loaded;
      const { config } = loaded;
      // The keys the running gateway uses (src/build.ts): same prefix, same cluster grouping.
      const keys = keyspace(config.redis.keyPrefix.replace(/:+$/, ""), { cluster: config.redis.cluster !== undefined });
      const redis = createProducerClient({ url: config.redis.url, cluster: config.redis.cluster, connectionName: "parley-cli" });
      redis.on("error", () => undefined);
      try {
        await waitForReady(redis);
      } catch (e) {
        redis.disconnect();
        return { exitCode: 1, lines: [`parley: cannot reach Redis (${errorMessage(e)}): is it running? (redis.url in the config)`] };
      }
      try {
        return await use({ section: config.adapters[factory.id], mappings: loaded.mappings, state: new RedisAdapterStateStore(redis, keys, factory.id) });
      } finally {
        redis.disconnect();
      }
    },
  });
}

/**
 * Every `parley` subcommand except `start` (which runs until a signal: see `bin/parley.ts`).
 * What it prints never shows a credential inside a URL (`redis://:secret@host` becomes
 * `redis://:***@host`), whichever check or adapter worded the line.
 */
export async function runCommand(argv: readonly string[], factories: readonly AdapterFactory<unknown>[], env: Readonly<Record<string, string | undefined>>): Promise<CommandOutput> {
  const out = await dispatch(argv, factories, env);
  return { ...out, lines: out.lines.map(redactUrlSecrets) };
}

async function dispatch(argv: readonly string[], factories: readonly AdapterFactory<unknown>[], env: Readonly<Record<string, string | undefined>>): Promise<CommandOutput> {
  const deps: CommandDeps = { networks: factories.map((f) => ({ id: f.id, addressing: f.addressing })), adapterSchemas: factories, env };
  const loadAll = loaderFor(factories, env);
  const [command, sub, ...rest] = argv;
  switch (command) {
    case "config":
      if (sub === "check") return configCheckCommand(rest, deps);
      if (sub === "sample") return configSampleCommand(deps);
      return { exitCode: 2, lines: ["usage: parley config check|sample …"] };
    case "resolve":
      return resolveCommand(argv.slice(1), deps);
    case "trace":
      return traceCommand(argv.slice(1), loadAll);
    case "dlq":
    case "presence":
    case "subscriptions":
      return adminCommand(command, argv.slice(1), { factories, loadAll });
    case "doctor":
      return doctorCommand(argv.slice(1), { loadAll, networks: doctorsOf(factories) });
    case undefined:
    case "help":
    case "--help":
    case "-h":
      return { exitCode: command === undefined ? 2 : 0, lines: [usage(factories)] };
  }
  const factory = factories.find((f) => f.id === command);
  if (factory) return adapterCommand(factory, sub, rest, loadAll);
  return { exitCode: 2, lines: [`parley: unknown command "${command}"`, usage(factories)] };
}
