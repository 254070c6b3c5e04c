/**
 * The one place that decides what an error nobody classified means for delivery (DESIGN §3,
 * failure classes): the delivery runner and the dispatcher both call it, so a failure is retried
 * or given up the same way wherever it surfaces.
 */
import { ZodError } from "zod";
import { ERROR_CODES } from "../errors/codes.js";
import { isParleyError } from "../errors/parley-error.js";
import { DeliveryError, type FailureClass } from "./contract.js";
import { errorMessage } from "../errors/message.js";
import type { FailureReason } from "../model/delivery-status.js";

/**
 * - a {@link DeliveryError}: the adapter decided; kept.
 * - a payload that fails its schema (`ZodError`): permanent `bad-request` — retrying cannot fix
 *   it, and retrying it for the whole budget only delays the sender's failure report.
 * - a `ParleyError`: the catalogue's reason, transient when the catalogue calls it retryable.
 * - anything else (a bug, a dropped connection): transient `internal` — it may pass.
 */
export function asDeliveryError(e: unknown): DeliveryError {
  if (e instanceof DeliveryError) return e;
  if (e instanceof ZodError) return new DeliveryError("permanent", "bad-request", `malformed job: ${e.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`, { cause: e });
  if (isParleyError(e)) {
    const entry = ERROR_CODES[e.code];
    return new DeliveryError(entry.retryable ? "transient" : "permanent", entry.reason, e.message, { nativeDetail: e.code, cause: e });
  }
  return new DeliveryError("transient", "internal", errorMessage(e), { cause: e });
}

/**
 * The class of a failure the network reported later, as a failed delivery status (an XMPP bounce,
 * a DSN) rather than by a thrown {@link DeliveryError}: what the sender's report means. Exhaustive
 * over the reasons, so a new reason does not compile until its class is decided here.
 */
const CLASS_OF_REASON: Record<FailureReason, FailureClass> = {
  "recipient-unknown": "permanent",
  "refused-by-policy": "permanent",
  "too-large": "permanent",
  unsupported: "permanent",
  "loop-detected": "permanent",
  "bad-request": "permanent",
  "rate-limited": "rate-limited",
  unavailable: "transient",
  timeout: "transient",
  internal: "transient",
};

export function failureClassOf(reason: FailureReason): FailureClass {
  return CLASS_OF_REASON[reason];
}
