/**
 * Canonical ids: UUIDv7 (RFC 9562 §5.7) — 48 bits of Unix milliseconds, then 74 random bits.
 * Time-ordered so Redis keys and logs sort by age; ≥ 64 random bits as RFC 5438 §6.3 asks of
 * message ids, so ids minted on several Parley processes never collide in practice.
 */
import { randomBytes } from "node:crypto";
import { z } from "zod";

declare const canonicalIdBrand: unique symbol;
/** A canonical message id. Minted only by {@link newCanonicalId}; parsed only by {@link CanonicalIdSchema}. */
export type CanonicalId = string & { readonly [canonicalIdBrand]: true };

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export const CanonicalIdSchema = z
  .string()
  .regex(UUID_V7, "must be a lower-case UUIDv7")
  .transform((s) => s as CanonicalId);

export function newCanonicalId(now: number = Date.now()): CanonicalId {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = 0x70 | (bytes[6]! & 0x0f);
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}` as CanonicalId;
}

/** The creation time encoded in a canonical id, in Unix milliseconds. */
export function canonicalIdTime(id: CanonicalId): number {
  return parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}
