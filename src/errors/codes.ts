/**
 * The one catalogue of Parley's error codes. Each code says what happened in words an operator
 * can act on, its HTTP status on the admin API and the Matrix application-service endpoint, and
 * the neutral reason the sender's adapter maps to its own vocabulary. `docs/errors.md` lists
 * exactly these codes (a test checks it).
 */
import type { FailureReason } from "../model/delivery-status.js";

export interface ErrorCodeInfo {
  readonly http: number;
  readonly reason: FailureReason;
  /** Whether the source may retry the same input later (SMTP 4xx, HTTP 503, XMPP type=wait). */
  readonly retryable: boolean;
  readonly summary: string;
}

export const ERROR_CODES = {
  /** Redis is unreachable or refuses writes; nothing was accepted. */
  PARLEY_UNAVAILABLE: { http: 503, reason: "unavailable", retryable: true, summary: "The gateway cannot store the event right now; try again later." },
  /** Redis is not configured to keep data (no persistence, or an eviction policy). A warning, not a refusal. */
  PARLEY_REDIS_NOT_DURABLE: { http: 500, reason: "internal", retryable: false, summary: "Redis may lose queued messages: enable AOF and maxmemory-policy noeviction." },
  /** An event failed schema validation. */
  PARLEY_INVALID_EVENT: { http: 400, reason: "bad-request", retryable: false, summary: "The event is malformed." },
  /** No mapping and no allowed shared form covers the address. */
  PARLEY_ADDRESS_UNKNOWN: { http: 404, reason: "recipient-unknown", retryable: false, summary: "No network is known for this address." },
  /** The address is syntactically impossible on the network it was given for. */
  PARLEY_ADDRESS_INVALID: { http: 400, reason: "bad-request", retryable: false, summary: "The address is not valid on this network." },
  /** Federation or access policy refuses this traffic (deliberately neutral toward the sender). */
  PARLEY_REFUSED: { http: 403, reason: "refused-by-policy", retryable: false, summary: "The gateway's policy does not allow this." },
  /** The sender claims an identity the adapter did not prove. */
  PARLEY_NOT_AUTHENTICATED: { http: 403, reason: "refused-by-policy", retryable: false, summary: "The sender's identity is not proved." },
  /** The hop count reached zero: a loop between gateways. */
  PARLEY_LOOP: { http: 508, reason: "loop-detected", retryable: false, summary: "The message has passed through too many gateways." },
  /** A size bound was exceeded (stanza, event, MIME part, attachments). */
  PARLEY_TOO_LARGE: { http: 413, reason: "too-large", retryable: false, summary: "The message is larger than the gateway accepts." },
  /** The recipient's network cannot carry this content (e.g. end-to-end encrypted content that must not be sent in clear). */
  PARLEY_UNSUPPORTED: { http: 415, reason: "unsupported", retryable: false, summary: "The recipient's network cannot carry this content." },
  /** The sender is sending faster than the gateway allows. */
  PARLEY_RATE_LIMITED: { http: 429, reason: "rate-limited", retryable: true, summary: "Too many messages; slow down." },
  /** The network or a domain is switched off by the admin (kill switch). */
  PARLEY_DISABLED: { http: 503, reason: "unavailable", retryable: true, summary: "The admin has switched this route off." },
  /** The configuration or the mappings are invalid. */
  PARLEY_CONFIG_INVALID: { http: 500, reason: "internal", retryable: false, summary: "The configuration is invalid." },
  /** The admin API request lacks a valid bearer token. */
  PARLEY_UNAUTHORIZED: { http: 401, reason: "refused-by-policy", retryable: false, summary: "A valid admin token is required." },
  /** Delivery failed for good after the retry budget. */
  PARLEY_DELIVERY_FAILED: { http: 502, reason: "unavailable", retryable: false, summary: "The message could not be delivered." },
  /** The admin API has no such route or object. */
  PARLEY_NOT_FOUND: { http: 404, reason: "bad-request", retryable: false, summary: "No such admin route or object." },
  /** Anything unexpected; a bug. */
  PARLEY_INTERNAL: { http: 500, reason: "internal", retryable: true, summary: "Internal error." },
} as const satisfies Record<string, ErrorCodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;
