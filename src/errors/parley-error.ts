import { ERROR_CODES, type ErrorCode, type ErrorCodeInfo } from "./codes.js";

/** An error with a catalogued code; its message is safe to show to the sender or the admin. */
export class ParleyError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message?: string, details: Record<string, unknown> = {}, options?: ErrorOptions) {
    super(message ?? ERROR_CODES[code].summary, options);
    this.name = "ParleyError";
    this.code = code;
    this.details = details;
  }

  get info(): ErrorCodeInfo {
    return ERROR_CODES[this.code];
  }
}

export function isParleyError(e: unknown, code?: ErrorCode): e is ParleyError {
  return e instanceof ParleyError && (code === undefined || e.code === code);
}
