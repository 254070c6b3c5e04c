/**
 * The `parley` subcommands as functions returning what to print and the exit code;
 * `bin/parley.ts` passes argv and the adapter list, prints `lines` and exits with `exitCode`.
 */
export { configCheck, EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, type CommandOutput, type ConfigCheckOptions } from "./config-check.js";
export { resolve, type ResolveOptions } from "./resolve.js";
export { configCheckCommand, configSampleCommand, resolveCommand, CONFIG_CHECK_USAGE, RESOLVE_USAGE, type CommandDeps } from "./commands.js";
