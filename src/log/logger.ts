/**
 * Structured logs (pino). One root logger; modules take `log.child({ module })`.
 * Secrets and message bodies are redacted by path, so a log line can be shared freely: the
 * generic names below, and every key a config schema marks with `secret()` (src/config/secret.ts)
 * — the admin token and each adapter's own secrets, found from its schema, never by name here.
 */
import { pino, type Logger, type LoggerOptions, type DestinationStream } from "pino";
import type { z } from "zod";
import { secretKeys } from "../config/secret.js";
import { CoreConfigSchema } from "../config/schema.js";

export type { Logger };

/** Names redacted whatever declares them: credentials by their usual names, and message content. */
const GENERIC_KEYS = [
  "secret", "password", "token", "authorization", "Authorization", "as_token", "hs_token", "privateKey",
  "body", "parts", "html", "formatted_body",
];

/** How deep below the logged object a key is still found (pino redacts by path, not by search). */
const DEPTH = 4;

/** Pino paths for `key` at the top and up to {@link DEPTH} levels down. */
function pathsFor(key: string): string[] {
  const step = /^[A-Za-z_$][\w$]*$/.test(key) ? key : `["${key}"]`;
  const out: string[] = [];
  for (let depth = 0; depth <= DEPTH; depth++) out.push([..."*".repeat(depth)].concat(step).join(".").replace(/\.\[/g, "["));
  return out;
}

/** Anything with a config schema whose secrets must not be logged (an adapter factory is one). */
export interface SecretSource {
  readonly configSchema: z.ZodType;
}

/** Every path the logger redacts, for these config schemas besides the core's. */
export function redactPaths(sources: readonly SecretSource[] = []): string[] {
  const keys = new Set([...GENERIC_KEYS, ...secretKeys(CoreConfigSchema), ...sources.flatMap((s) => secretKeys(s.configSchema))]);
  return [...keys].flatMap(pathsFor);
}

export function createLogger(options: { level?: string; name?: string; secrets?: readonly SecretSource[] } = {}, destination?: DestinationStream): Logger {
  const opts: LoggerOptions = {
    level: options.level ?? process.env.PARLEY_LOG_LEVEL ?? "info",
    name: options.name ?? "parley",
    redact: { paths: redactPaths(options.secrets), censor: "[redacted]" },
    base: { pid: process.pid },
  };
  return destination ? pino(opts, destination) : pino(opts);
}

/** A logger that discards everything (for tests that do not look at logs). */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
