/**
 * Argument parsing for `parley config check|sample` and `parley resolve`, so `bin/parley.ts`
 * only hands over argv and the adapter list, prints `lines` and exits with `exitCode`.
 */
import { parseArgs } from "node:util";
import { loadConfig } from "../config/load.js";
import { sampleConfig } from "../config/sample.js";
import type { AdapterConfigSchema } from "../config/schema.js";
import { loadMappingsFile, type KnownNetwork } from "../mappings/load.js";
import { configCheck, EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, type CommandOutput } from "./config-check.js";
import { resolve } from "./resolve.js";
import { errorMessage } from "../errors/message.js";

/** What the commands need from the composition root: the adapter factories satisfy both halves. */
export interface CommandDeps {
  readonly networks: readonly KnownNetwork[];
  readonly adapterSchemas: readonly AdapterConfigSchema[];
  readonly env: Readonly<Record<string, string | undefined>>;
}

export const CONFIG_CHECK_USAGE = "usage: parley config check [--config FILE] [--mappings FILE]";
export const RESOLVE_USAGE =
  "usage: parley resolve [--config FILE | --mappings FILE] ADDRESS [--home NETWORK | --on NETWORK] [--from ADDRESS [--from-on NETWORK]]";

function usage(text: string, error?: unknown): CommandOutput {
  return { exitCode: EXIT_USAGE, lines: error === undefined ? [text] : [`parley: ${errorMessage(error)}`, text] };
}

/** `parley config check [--config FILE] [--mappings FILE]` (args after `config check`). */
export async function configCheckCommand(args: readonly string[], deps: CommandDeps): Promise<CommandOutput> {
  let values;
  try {
    ({ values } = parseArgs({ args: [...args], options: { config: { type: "string" }, mappings: { type: "string" } }, strict: true, allowPositionals: false }));
  } catch (e) {
    return usage(CONFIG_CHECK_USAGE, e);
  }
  return configCheck({ configPath: values.config, mappingsPath: values.mappings, networks: deps.networks, adapterSchemas: deps.adapterSchemas, env: deps.env });
}

/** `parley config sample`: a documented config with every core key and each adapter's section. */
export function configSampleCommand(deps: Pick<CommandDeps, "adapterSchemas">): CommandOutput {
  return { exitCode: EXIT_OK, lines: sampleConfig(deps.adapterSchemas).trimEnd().split("\n") };
}

/** Which mappings file `--mappings` or `--config` (else the built-in config) names. */
async function mappingsPathOf(values: { config?: string | undefined; mappings?: string | undefined }, deps: CommandDeps): Promise<CommandOutput | string> {
  if (values.mappings !== undefined) return values.mappings;
  const config = await loadConfig(values.config, { adapters: deps.adapterSchemas, env: deps.env });
  if (!config.ok) return { exitCode: EXIT_PROBLEMS, lines: [...config.error.lines(), "the config is invalid: fix it, or give --mappings FILE"] };
  return config.config.mappings;
}

/** `parley resolve …` (args after `resolve`). */
export async function resolveCommand(args: readonly string[], deps: CommandDeps): Promise<CommandOutput> {
  const options = {
    config: { type: "string" }, mappings: { type: "string" }, on: { type: "string" }, home: { type: "string" },
    from: { type: "string" }, "from-on": { type: "string" },
  } as const;
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options, strict: true, allowPositionals: true });
  } catch (e) {
    return usage(RESOLVE_USAGE, e);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1 || (values.on !== undefined && values.home !== undefined)) return usage(RESOLVE_USAGE);
  const path = await mappingsPathOf(values, deps);
  if (typeof path !== "string") return path;
  const mappings = await loadMappingsFile(path, deps.networks);
  if (!mappings.ok) return { exitCode: EXIT_PROBLEMS, lines: mappings.error.lines() };
  return resolve(positionals[0]!, {
    mappings: mappings.mappings, networks: deps.networks, on: values.on, home: values.home, from: values.from, fromOn: values["from-on"],
  });
}
