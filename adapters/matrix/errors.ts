/**
 * Failure classes for calls to the homeserver (DESIGN §3, STYLE habit 6): Matrix errcodes and
 * HTTP statuses (Matrix spec, client-server API "Standard error response", "Rate limiting") become
 * a {@link DeliveryError} the delivery worker maps to retry, give up, or slow down.
 */
import { ConnectionError, MatrixError } from "matrix-js-sdk";
import { asDeliveryError } from "../../src/adapter/classify.js";
import { DeliveryError } from "../../src/adapter/contract.js";
import type { FailureReason } from "../../src/model/delivery-status.js";
import type { ParleyError } from "../../src/errors/parley-error.js";

/** The errcode of a Matrix error response, if the error is one. */
export function errcodeOf(e: unknown): string | undefined {
  return e instanceof MatrixError ? e.errcode : undefined;
}

export function httpStatusOf(e: unknown): number | undefined {
  return e instanceof MatrixError ? e.httpStatus : undefined;
}

function retryAfterMs(e: MatrixError): number | undefined {
  const fromBody: unknown = (e.data as Record<string, unknown>).retry_after_ms;
  if (typeof fromBody === "number" && fromBody >= 0) return fromBody;
  try {
    return e.getRetryAfterMs() ?? undefined;
  } catch {
    return undefined;
  }
}

const PERMANENT: Record<string, FailureReason> = {
  M_FORBIDDEN: "refused-by-policy",
  M_NOT_FOUND: "recipient-unknown",
  M_UNKNOWN: "recipient-unknown",
  M_USER_DEACTIVATED: "recipient-unknown",
  M_INVALID_PARAM: "bad-request",
  M_BAD_JSON: "bad-request",
  M_NOT_JSON: "bad-request",
  M_TOO_LARGE: "too-large",
  M_UNRECOGNIZED: "unsupported",
  M_EXCLUSIVE: "refused-by-policy",
};

/** Classify anything a homeserver call threw. */
export function classify(e: unknown, what: string): DeliveryError {
  if (e instanceof DeliveryError) return e;
  if (e instanceof MatrixError) {
    const status = e.httpStatus ?? 0;
    const detail = `${e.errcode ?? "HTTP"} ${status}`;
    if (status === 429 || e.errcode === "M_LIMIT_EXCEEDED") {
      const after = retryAfterMs(e);
      return new DeliveryError("rate-limited", "rate-limited", `${what}: the homeserver asks us to slow down`, { nativeDetail: detail, cause: e, ...(after !== undefined ? { retryAfterMs: after } : {}) });
    }
    // 401 M_UNKNOWN_TOKEN means the registration is not (yet) loaded: an admin can fix it, keep the message.
    if (status >= 500 || status === 401 || status === 408 || status === 0) {
      return new DeliveryError("transient", "unavailable", `${what}: the homeserver answered ${detail}`, { nativeDetail: detail, cause: e });
    }
    if (status === 413) return new DeliveryError("permanent", "too-large", `${what}: too large for the homeserver`, { nativeDetail: detail, cause: e });
    const reason: FailureReason = (e.errcode !== undefined ? PERMANENT[e.errcode] : undefined) ?? (status === 404 ? "recipient-unknown" : "bad-request");
    return new DeliveryError("permanent", reason, `${what}: the homeserver refused it (${detail})`, { nativeDetail: detail, cause: e });
  }
  if (e instanceof ConnectionError || (e instanceof Error && /fetch failed|ECONNREFUSED|ECONNRESET|timed? ?out|aborted/i.test(e.message))) {
    return new DeliveryError("transient", "unavailable", `${what}: the homeserver is unreachable`, { nativeDetail: e.message, cause: e });
  }
  const d = asDeliveryError(e);
  return new DeliveryError(d.failureClass, d.reason, `${what}: ${d.message}`, { cause: e, ...(d.nativeDetail !== undefined ? { nativeDetail: d.nativeDetail } : {}) });
}

/** Words for a Matrix user about why something was not delivered (no internals, no secrets). */
const REASON_TEXT: Record<FailureReason, string> = {
  "recipient-unknown": "the recipient does not exist",
  "refused-by-policy": "the gateway's policy does not allow it",
  unavailable: "the recipient's network is unreachable",
  timeout: "it timed out",
  "too-large": "it is too large",
  unsupported: "the recipient's network cannot carry it",
  "loop-detected": "it passed through too many gateways",
  "rate-limited": "too many messages were sent too quickly",
  "bad-request": "it was malformed",
  internal: "of an internal error",
};

export function reasonText(reason: FailureReason | undefined): string {
  return REASON_TEXT[reason ?? "internal"];
}

/**
 * Machine-readable fields a refusal notice carries beside its text: a rate-limited sender gets
 * Matrix's own `M_LIMIT_EXCEEDED` with `retry_after_ms` (client-server API "Rate limiting"), as a
 * homeserver would answer a client sending too fast (issue 14).
 */
export function refusalFields(error: ParleyError): Record<string, unknown> {
  if (error.code !== "PARLEY_RATE_LIMITED") return {};
  const after = error.details.retryAfterMs;
  return { errcode: "M_LIMIT_EXCEEDED", ...(typeof after === "number" ? { retry_after_ms: after } : {}) };
}
