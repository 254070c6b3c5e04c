/**
 * Structured logs (pino). One root logger; modules take `log.child({ module })`.
 * Secrets and message bodies are redacted by key name at any depth, so a log line can be shared freely: the
 * generic names below, and every key a config schema marks with `secret()` (src/config/secret.ts)
 * — the admin token and each adapter's own secrets, found from its schema, never by name here.
 * A credential inside a value (`redis://:secret@host`, `?password=`) has no key of its own: every
 * line is passed through `redactUrlSecrets` (redact-url.ts) as it is written, message and stack
 * included.
 */
import { pino, type Logger, type LoggerOptions, type DestinationStream } from "pino";
import type { z } from "zod";
import { secretKeys } from "../config/secret.js";
import { CoreConfigSchema } from "../config/schema.js";
import { redactUrlSecrets } from "./redact-url.js";

export type { Logger };

/** Names redacted whatever declares them: credentials by their usual names, and message content. */
const GENERIC_KEYS = [
  "secret", "password", "token", "authorization", "Authorization", "as_token", "hs_token", "privateKey",
  "body", "parts", "html", "formatted_body",
];

const CENSOR = "[redacted]";

/**
 * Pino paths for `key` at the top and a few levels down: pino applies these to a child logger's
 * bindings too, which the formatter below does not see.
 */
function pathsFor(key: string): string[] {
  const step = /^[A-Za-z_$][\w$]*$/.test(key) ? key : `["${key}"]`;
  return [0, 1, 2, 3].map((depth) => [...Array<string>(depth).fill("*"), step].join(".").replace(/\.\[/g, "["));
}

/** Nesting below which a logged object is not searched (a config is ~5 levels deep). */
const MAX_DEPTH = 12;

/**
 * A copy of `value` with every property named in `keys` censored, at any depth (pino's own
 * redaction works by fixed paths, which miss a secret logged one level deeper than foreseen).
 * Plain objects and arrays are copied; anything else (errors, buffers, dates) is kept as it is.
 */
function censored(value: unknown, keys: ReadonlySet<string>, depth: number, seen: WeakSet<object>): unknown {
  if (typeof value !== "object" || value === null || depth > MAX_DEPTH || seen.has(value)) return value;
  const proto = Object.getPrototypeOf(value) as unknown;
  if (Array.isArray(value)) {
    seen.add(value);
    return value.map((v) => censored(v, keys, depth + 1, seen));
  }
  if (proto !== Object.prototype && proto !== null) return value;
  seen.add(value);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = keys.has(k) ? CENSOR : censored(v, keys, depth + 1, seen);
  return out;
}

/** Anything with a config schema whose secrets must not be logged (an adapter factory is one). */
export interface SecretSource {
  readonly configSchema: z.ZodType;
}

/** Every key name the logger redacts, for these config schemas besides the core's. */
export function redactedKeys(sources: readonly SecretSource[] = []): ReadonlySet<string> {
  return new Set([...GENERIC_KEYS, ...secretKeys(CoreConfigSchema), ...sources.flatMap((s) => secretKeys(s.configSchema))]);
}

export function createLogger(options: { level?: string; name?: string; secrets?: readonly SecretSource[] } = {}, destination?: DestinationStream): Logger {
  const keys = redactedKeys(options.secrets);
  const opts: LoggerOptions = {
    level: options.level ?? process.env.PARLEY_LOG_LEVEL ?? "info",
    name: options.name ?? "parley",
    redact: { paths: [...keys].flatMap(pathsFor), censor: CENSOR },
    formatters: {
      log: (object) => censored(object, keys, 0, new WeakSet()) as Record<string, unknown>,
    },
    base: { pid: process.pid },
    hooks: { streamWrite: redactUrlSecrets },
  };
  return destination ? pino(opts, destination) : pino(opts);
}

/** A logger that discards everything (for tests that do not look at logs). */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
