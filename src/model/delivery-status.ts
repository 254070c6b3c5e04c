/** Delivery status reported back to a sender (DESIGN §2, RFC 2779 4.2.1). */
import { z } from "zod";
import { CanonicalIdSchema } from "./ids.js";
import { EndpointSchema } from "./address.js";
import { ExtensionsSchema, TimestampSchema } from "./common.js";

/**
 * accepted → relayed | delivered | displayed | failed | indeterminate.
 * A hand-off (SMTP 250, a homeserver's 200) is `relayed`; only an end-to-end signal (XEP-0184
 * receipt, DSN, read receipt) is `delivered`.
 */
export const DeliveryStateSchema = z.enum(["accepted", "relayed", "delivered", "displayed", "failed", "indeterminate"]);
export type DeliveryState = z.infer<typeof DeliveryStateSchema>;

/** Neutral failure reasons; each adapter maps them to and from its own vocabulary. */
export const FailureReasonSchema = z.enum([
  "recipient-unknown",
  "refused-by-policy",
  "unavailable",
  "timeout",
  "too-large",
  "unsupported",
  "loop-detected",
  "rate-limited",
  "bad-request",
  "internal",
]);
export type FailureReason = z.infer<typeof FailureReasonSchema>;

export const DeliveryStatusSchema = z.object({
  messageId: CanonicalIdSchema,
  /** The original sender, to whom this status is reported. */
  sender: EndpointSchema,
  recipient: EndpointSchema,
  state: DeliveryStateSchema,
  reason: FailureReasonSchema.optional(),
  /** Human-readable text for the sender, in English. */
  text: z.string().max(1024).optional(),
  at: TimestampSchema,
  /** Native detail (stanza error, SMTP reply, Matrix errcode) the core never reads. */
  extensions: ExtensionsSchema.default({}),
});
export type DeliveryStatus = z.infer<typeof DeliveryStatusSchema>;
