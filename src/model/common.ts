/** Small shared pieces of the canonical model. */
import { z } from "zod";

/** Text in several languages: BCP 47 tag → text; `und` when the language is not known. */
export const LangMapSchema = z.record(z.string().min(1).max(35), z.string().max(4096));
export type LangMap = z.infer<typeof LangMapSchema>;

/**
 * Namespaced extensions (RFC 3863 §4.2.3): payloads the core carries through unchanged and never
 * reads. Keys are namespace URIs registered in `docs/extensions.md`; a `mustUnderstand` payload
 * that the receiving adapter does not know makes it refuse the event rather than drop the payload.
 */
export const ExtensionSchema = z.object({
  payload: z.unknown(),
  mustUnderstand: z.boolean().optional(),
});
export const ExtensionsSchema = z.record(z.string().min(1).max(255), ExtensionSchema);
export type Extensions = z.infer<typeof ExtensionsSchema>;

export const TimestampSchema = z.iso.datetime({ offset: true });

/**
 * How the origin of an event was proved (DESIGN §5), in words no network owns; the adapter names
 * its own mechanism in `detail`. `none` never yields a trusted identity.
 * - `network`: the sender's own server vouched for it on an authenticated link (an XMPP component
 *   link, a homeserver's hs_token).
 * - `domain-policy`: the message passed the policy the sender's domain publishes (DMARC).
 * - `signature`: a signature of the sender's domain verified (DKIM).
 * - `sending-host`: the host it came from is one the sender's domain authorises (SPF).
 * - `admin`: an administrator acted (admin API, CLI).
 */
export const AUTHENTICATION_METHODS = ["network", "domain-policy", "signature", "sending-host", "admin", "none"] as const;

export const AuthenticationSchema = z.object({
  method: z.enum(AUTHENTICATION_METHODS),
  /** Free text from the adapter (e.g. "component link", "hs_token", "dmarc=pass header.from=…"). */
  detail: z.string().max(512).optional(),
});
export type Authentication = z.infer<typeof AuthenticationSchema>;

export function isAuthenticated(a: Authentication): boolean {
  return a.method !== "none";
}
