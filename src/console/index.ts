export { WebConsole, type ConsoleOptions } from "./console.js";
export type { ConsoleSources, DeadLetters, LinkHealth } from "./sources.js";
