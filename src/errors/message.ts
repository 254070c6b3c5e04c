import { redactUrlSecrets } from "../log/redact-url.js";

/**
 * The message of anything thrown: an Error's own, else its string form (a thrown string, a number),
 * with any credential inside a URL taken out (a Redis or HTTP client may word its error with the
 * URL it was given, and these messages reach logs, CLI output and failure reports).
 */
export function errorMessage(e: unknown): string {
  return redactUrlSecrets(e instanceof Error ? e.message : String(e));
}
