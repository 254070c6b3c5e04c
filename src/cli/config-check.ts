/**
 * `parley config check [--config FILE] [--mappings FILE]`: validate the gateway config and the
 * domain mappings it names, printing every problem as `file:line: key: message` (STYLE habit 8).
 * Pure apart from reading the files; `bin/parley.ts` prints the lines and exits with the code.
 */
import { loadConfig } from "../config/load.js";
import type { AdapterConfigSchema } from "../config/schema.js";
import { loadMappingsFile, type KnownNetwork } from "../mappings/load.js";
import type { DomainMappings } from "../mappings/types.js";
import type { GatewayConfig } from "../config/schema.js";

import type { CommandOutput } from "../adapter/declarations.js";

export type { CommandOutput };

export const EXIT_OK = 0;
/** The input has problems (invalid config or mappings, an address that does not resolve). */
export const EXIT_PROBLEMS = 1;
/** The command was used wrongly. */
export const EXIT_USAGE = 2;

export interface ConfigCheckOptions {
  /** Gateway config file; without it the built-in default is checked. */
  readonly configPath?: string | undefined;
  /** Mappings file; without it, the one the config names. */
  readonly mappingsPath?: string | undefined;
  /** Known networks and their addressing (the adapter factories). */
  readonly networks: readonly KnownNetwork[];
  /** Adapter config schemas (the adapter factories). */
  readonly adapterSchemas: readonly AdapterConfigSchema[];
  /** `PARLEY_*` overrides to apply, as `parley start` would (pass process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** Networks that one side configures and the other does not: worth a warning, not an error. */
function crossWarnings(config: GatewayConfig, mappings: DomainMappings): string[] {
  const out: string[] = [];
  for (const id of mappings.networks.keys()) {
    if (!(id in config.adapters)) out.push(`warning: the mappings configure network "${id}" but the config has no adapters.${id} section: it will not be started`);
  }
  for (const id of Object.keys(config.adapters)) {
    if (!mappings.networks.has(id as never)) out.push(`warning: adapters.${id} is configured but the mappings have no networks.${id} section`);
  }
  return out;
}

export async function configCheck(options: ConfigCheckOptions): Promise<CommandOutput> {
  const lines: string[] = [];
  let problems = 0;
  const configName = options.configPath ?? "built-in default config";
  const config = await loadConfig(options.configPath, { adapters: options.adapterSchemas, env: options.env ?? {} });
  if (config.ok) {
    lines.push(`${configName}: ok (adapters: ${Object.keys(config.config.adapters).join(", ") || "none"})`);
  } else {
    lines.push(...config.error.lines());
    problems += config.error.problems.length;
  }
  const mappingsPath = options.mappingsPath ?? (config.ok ? config.config.mappings : undefined);
  if (mappingsPath === undefined) {
    lines.push("mappings not checked: the config is invalid and no --mappings file was given");
  } else {
    const mappings = await loadMappingsFile(mappingsPath, options.networks);
    if (mappings.ok) {
      lines.push(`${mappingsPath}: ok (${mappings.mappings.networks.size} networks, ${mappings.mappings.domains.size} listed domains)`);
      if (config.ok) lines.push(...crossWarnings(config.config, mappings.mappings));
    } else {
      lines.push(...mappings.error.lines());
      problems += mappings.error.problems.length;
    }
  }
  if (problems > 0) lines.push(`${problems} problem${problems === 1 ? "" : "s"} found`);
  return { exitCode: problems > 0 ? EXIT_PROBLEMS : EXIT_OK, lines };
}
