/**
 * The `parley` subcommands as pure functions returning what to print and the exit code;
 * `bin/parley.ts` parses argv, calls them, prints `lines` and exits with `exitCode`.
 */
export { configCheck, EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, type CommandOutput, type ConfigCheckOptions } from "./config-check.js";
export { resolve, type ResolveOptions } from "./resolve.js";
export { sampleConfig } from "../config/sample.js";
