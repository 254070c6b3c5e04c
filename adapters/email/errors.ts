/**
 * SMTP replies ↔ Parley's neutral failure vocabulary.
 * Outbound: an SMTP reply or connection error from the relay becomes a {@link DeliveryError}
 * (RFC 5321 §4.2.1: 4yz transient, 5yz permanent; enhanced codes per RFC 3463).
 * Inbound: a refusal becomes the reply Parley's listener gives (code, enhanced code, text).
 */
import { DeliveryError } from "../../src/adapter/contract.js";
import type { FailureReason } from "../../src/model/delivery-status.js";
import { ERROR_CODES, type ErrorCode } from "../../src/errors/codes.js";

/** RFC 3463 status (class.subject.detail) → neutral reason. */
export function reasonForStatus(status: string | undefined, code?: number): FailureReason {
  const s = status ?? "";
  if (/^[45]\.1\.[0-36]/.test(s)) return "recipient-unknown";
  if (/^[45]\.2\.2/.test(s)) return "unavailable"; // mailbox full
  if (/^[45]\.(2\.3|3\.4)/.test(s)) return "too-large";
  if (/^[45]\.4\.[0-27]/.test(s)) return "timeout";
  if (/^[45]\.4\.6/.test(s)) return "loop-detected";
  if (/^[45]\.7\./.test(s)) return "refused-by-policy";
  if (/^[45]\.6\./.test(s)) return "unsupported";
  if (code === 550 || code === 551 || code === 553) return "recipient-unknown";
  if (code === 552) return "too-large";
  if (code === 554) return "refused-by-policy";
  return "unavailable";
}

interface SmtpLikeError {
  readonly responseCode?: number;
  readonly response?: string;
  readonly code?: string;
  readonly message?: string;
}

/** Classify what nodemailer threw while handing a message to the relay or an MX. */
export function classifySendError(e: unknown): DeliveryError {
  const err = (e ?? {}) as SmtpLikeError;
  const code = typeof err.responseCode === "number" ? err.responseCode : undefined;
  const response = typeof err.response === "string" ? err.response.replace(/[\r\n]+/g, " ").slice(0, 300) : undefined;
  const status = /\b([245]\.\d{1,3}\.\d{1,3})\b/.exec(response ?? "")?.[1];
  const detail = response ?? `${err.code ?? "error"}: ${err.message ?? String(e)}`;
  if (err.code === "ETLS") {
    // requireTLS and the relay offers no STARTTLS: the relay's own reply (e.g. "502 command not
    // implemented") would mislead; say what the policy refused. Permanent until the admin acts.
    return new DeliveryError("permanent", "refused-by-policy", "the relay offers no TLS, and outbound.requireTLS forbids sending in clear", { nativeDetail: detail, cause: e });
  }
  if (code !== undefined && code >= 500) {
    return new DeliveryError("permanent", reasonForStatus(status, code), `relay refused: ${detail}`, { nativeDetail: detail, cause: e });
  }
  if (code === 421 || code === 450 || code === 451 || code === 452) {
    const rate = /\b4\.7\.\d+\b/.test(status ?? "") || /rate|too many/i.test(response ?? "");
    return new DeliveryError(rate ? "rate-limited" : "transient", rate ? "rate-limited" : "unavailable", `relay deferred: ${detail}`, { nativeDetail: detail, cause: e, ...(rate ? { retryAfterMs: 60_000 } : {}) });
  }
  // Connection refused, timeouts, TLS trouble, DNS: the relay may come back.
  return new DeliveryError("transient", err.code === "ETIMEDOUT" ? "timeout" : "unavailable", `relay unreachable: ${detail}`, { nativeDetail: detail, cause: e });
}

/** An SMTP reply Parley's listener gives. */
export interface SmtpReply {
  readonly code: number;
  readonly status: string;
  readonly text: string;
}

export function reply(code: number, status: string, text: string): SmtpReply {
  return { code, status, text };
}

/**
 * The reply for each neutral reason (RFC 5321 §4.2, RFC 3463 enhanced codes): a new reason does
 * not compile until email decides its reply. A policy refusal is neutral: never disclose a block
 * (RFC 2779 2.3.5).
 */
const REPLY_FOR_REASON: Record<FailureReason, SmtpReply> = {
  "recipient-unknown": reply(550, "5.1.1", "No such recipient here"),
  "refused-by-policy": reply(550, "5.7.1", "Delivery not authorized"),
  unavailable: reply(451, "4.3.0", "Temporary failure, try again later"),
  timeout: reply(451, "4.4.7", "Temporary failure, try again later"),
  "too-large": reply(552, "5.3.4", "Message too big"),
  unsupported: reply(554, "5.6.0", "Content not supported"),
  "loop-detected": reply(554, "5.4.6", "Routing loop detected"),
  "rate-limited": reply(451, "4.7.1", "Too many messages, slow down"),
  "bad-request": reply(554, "5.6.0", "Message could not be converted"),
  internal: reply(451, "4.3.0", "Temporary failure, try again later"),
};

/** Parley codes whose SMTP reply is more precise than their reason's. */
const REPLY_FOR_CODE: Partial<Record<ErrorCode, SmtpReply>> = {
  PARLEY_ADDRESS_INVALID: reply(553, "5.1.3", "Bad address syntax"),
  PARLEY_NOT_AUTHENTICATED: reply(550, "5.7.1", "Sender authentication failed"),
};

/** The reply for a refusal from the core (AcceptResult "refused", or a thrown ParleyError). */
export function replyForParleyCode(code: ErrorCode, detail?: string): SmtpReply {
  // Name the limit that was exceeded (the chat network's, not the SMTP SIZE limit): issue 11, class 8.
  if (code === "PARLEY_TOO_LARGE" && detail) return reply(552, "5.3.4", `Message too big for chat: ${detail}`);
  return REPLY_FOR_CODE[code] ?? REPLY_FOR_REASON[ERROR_CODES[code].reason];
}

/** An Error carrying an SMTP reply, as smtp-server expects from its callbacks. */
export class SmtpReplyError extends Error {
  readonly responseCode: number;
  constructor(r: SmtpReply) {
    super(`${r.status} ${r.text}`);
    this.responseCode = r.code;
  }
}
