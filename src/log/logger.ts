/**
 * Structured logs (pino). One root logger; modules take `log.child({ module })`.
 * Secrets and message bodies are redacted by path, so a log line can be shared freely.
 */
import { pino, type Logger, type LoggerOptions, type DestinationStream } from "pino";

export type { Logger };

/** Paths redacted everywhere: tokens, secrets, passwords, and message content. */
export const REDACT_PATHS = [
  "*.secret", "*.password", "*.token", "*.asToken", "*.hsToken", "*.as_token", "*.hs_token",
  "*.authorization", "*.Authorization", "headers.authorization", "*.headers.authorization",
  "*.body", "*.parts", "*.html", "*.formatted_body", "*.dkimPrivateKey", "*.privateKey",
  "secret", "password", "token", "body", "parts",
];

export function createLogger(options: { level?: string; name?: string } = {}, destination?: DestinationStream): Logger {
  const opts: LoggerOptions = {
    level: options.level ?? process.env.PARLEY_LOG_LEVEL ?? "info",
    name: options.name ?? "parley",
    redact: { paths: REDACT_PATHS, censor: "[redacted]" },
    base: { pid: process.pid },
  };
  return destination ? pino(opts, destination) : pino(opts);
}

/** A logger that discards everything (for tests that do not look at logs). */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
