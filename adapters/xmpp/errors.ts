/**
 * Failures in XMPP's own vocabulary (RFC 6120 §8.3): neutral reasons and Parley error codes to
 * stanza error conditions and back (RFC 7247 §7 where it gives a mapping). Errors carry a
 * human-readable `<text/>` (RFC 6120 §8.3.2) in English.
 */
import type { FailureReason } from "../../src/model/delivery-status.js";
import type { ErrorCode } from "../../src/errors/codes.js";
import { ParleyError } from "../../src/errors/parley-error.js";

export const NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas";

/** RFC 6120 §8.3.2: cancel, continue, modify, auth, wait. */
export type StanzaErrorType = "cancel" | "continue" | "modify" | "auth" | "wait";

/** The RFC 6120 §8.3.3 conditions this adapter sends or reads. */
export type StanzaCondition =
  | "bad-request" | "feature-not-implemented" | "forbidden" | "internal-server-error" | "item-not-found"
  | "jid-malformed" | "not-acceptable" | "not-allowed" | "not-authorized" | "policy-violation"
  | "recipient-unavailable" | "remote-server-not-found" | "remote-server-timeout" | "resource-constraint"
  | "service-unavailable" | "undefined-condition" | "unexpected-request" | "gone" | "conflict" | "redirect"
  | "registration-required" | "subscription-required";

export interface StanzaErrorSpec {
  readonly type: StanzaErrorType;
  readonly condition: StanzaCondition;
  readonly text: string;
}

/** Neutral failure reason → stanza error (RFC 7247 §7: 404 → item-not-found, 408/504 → remote-server-timeout, 480 → recipient-unavailable). */
const BY_REASON: Record<FailureReason, { type: StanzaErrorType; condition: StanzaCondition }> = {
  "recipient-unknown": { type: "cancel", condition: "item-not-found" },
  // Neutral toward the sender (RFC 2779 2.3.5, 5.4.10; XEP-0191 §3.2): a refusal looks like "no service".
  "refused-by-policy": { type: "cancel", condition: "service-unavailable" },
  unavailable: { type: "wait", condition: "recipient-unavailable" },
  timeout: { type: "wait", condition: "remote-server-timeout" },
  "too-large": { type: "modify", condition: "policy-violation" },
  unsupported: { type: "cancel", condition: "feature-not-implemented" },
  "loop-detected": { type: "cancel", condition: "policy-violation" },
  "rate-limited": { type: "wait", condition: "policy-violation" },
  "bad-request": { type: "modify", condition: "bad-request" },
  internal: { type: "wait", condition: "internal-server-error" },
};

/** Parley codes whose XMPP condition is more precise than their reason's. */
const BY_CODE: Partial<Record<ErrorCode, { type: StanzaErrorType; condition: StanzaCondition }>> = {
  PARLEY_ADDRESS_INVALID: { type: "modify", condition: "jid-malformed" },
  PARLEY_UNAVAILABLE: { type: "wait", condition: "service-unavailable" },
  PARLEY_DISABLED: { type: "cancel", condition: "service-unavailable" },
  PARLEY_NOT_AUTHENTICATED: { type: "auth", condition: "not-authorized" },
  PARLEY_RATE_LIMITED: { type: "wait", condition: "policy-violation" },
};

export function errorForReason(reason: FailureReason, text: string): StanzaErrorSpec {
  return { ...BY_REASON[reason], text };
}

/**
 * A refusal's own text names what was refused and why (for the sender); a passing failure of the
 * gateway (Redis down, an internal error) gets only the catalogue's neutral text, never the
 * internal detail (that is for the log).
 */
export function errorForParleyError(e: ParleyError): StanzaErrorSpec {
  const hit = BY_CODE[e.code] ?? BY_REASON[e.info.reason];
  const neutral = e.code === "PARLEY_UNAVAILABLE" || e.code === "PARLEY_INTERNAL";
  return { ...hit, text: neutral ? e.info.summary : e.message };
}

export function errorFor(e: unknown): StanzaErrorSpec {
  if (e instanceof ParleyError) return errorForParleyError(e);
  return { type: "wait", condition: "internal-server-error", text: "Internal error in the gateway." };
}

/**
 * Stanza error condition received from XMPP → neutral reason (for bounces of Parley's own sends).
 * A `policy-violation` of type `wait` is a server asking to slow down (what Parley itself sends
 * for `rate-limited`, above); of any other type it is a refusal.
 */
export function reasonForCondition(condition: string, type?: string): FailureReason {
  switch (condition) {
    case "item-not-found": case "jid-malformed": case "remote-server-not-found": case "gone": case "registration-required":
      return "recipient-unknown";
    case "service-unavailable": case "forbidden": case "not-allowed": case "not-authorized": case "subscription-required":
      return "refused-by-policy";
    case "recipient-unavailable": return "unavailable";
    case "remote-server-timeout": return "timeout";
    case "policy-violation": return type === "wait" ? "rate-limited" : "refused-by-policy";
    case "not-acceptable": return "refused-by-policy";
    case "resource-constraint": return "rate-limited";
    case "feature-not-implemented": return "unsupported";
    case "bad-request": return "bad-request";
    default: return "internal";
  }
}
