/**
 * Canonical presence (DESIGN §2), shaped after PIDF (RFC 3863) and RPID (RFC 4480): a presentity,
 * one tuple per device or resource with a required basic OPEN/CLOSED, and person-level state.
 * An email address has no presence: there is never a Presence for one.
 */
import { z } from "zod";
import { EndpointSchema } from "./address.js";
import { ExtensionsSchema, LangMapSchema, TimestampSchema } from "./common.js";

export const BasicSchema = z.enum(["open", "closed"]);
export type Basic = z.infer<typeof BasicSchema>;

/** XMPP's vocabulary (RFC 6121 §4.7.2.1); absent means plainly available. */
export const ShowSchema = z.enum(["chat", "away", "xa", "dnd"]);
export type Show = z.infer<typeof ShowSchema>;

export const TupleSchema = z.object({
  /** Resource or device id, unique within the presentity. */
  id: z.string().min(1).max(1023),
  /** The communication means this tuple describes (RFC 2779 4.4.3). */
  service: z.enum(["im", "email", "voice", "other"]).default("im"),
  basic: BasicSchema,
  show: ShowSchema.optional(),
  note: LangMapSchema.optional(),
  /** RFC 6121 §4.7.2.3 priority, −128..127 (kept native; PIDF's 0..1 is derived on export). */
  priority: z.number().int().min(-128).max(127).optional(),
  contact: z.string().max(2048).optional(),
  timestamp: TimestampSchema,
});
export type Tuple = z.infer<typeof TupleSchema>;

export const PersonSchema = z.object({
  note: LangMapSchema.optional(),
  /** RPID user-input: idle or active, with the time of the last input. */
  userInput: z.object({ state: z.enum(["active", "idle"]), lastInput: TimestampSchema.optional() }).optional(),
  /** Contact URIs of the principal (RFC 2779 3.1.3): mailto:, tel:, xmpp:, matrix:. */
  contacts: z.array(z.string().max(2048)).max(32).optional(),
  displayName: z.string().max(256).optional(),
  /** The principal's picture: an `https:`/`mxc:` URI or a blob-store reference (XEP-0084, Matrix `avatar_url`). */
  avatar: z.string().max(2048).optional(),
});

export const ProvenanceSchema = z.object({
  /** `origin`: sent by the presentity's own network; `gateway`: synthesised by Parley (e.g. CLOSED on timeout). */
  source: z.enum(["origin", "gateway"]),
  reason: z.string().max(256).optional(),
});

export const PresenceSchema = z.object({
  presentity: EndpointSchema,
  tuples: z.array(TupleSchema).max(64),
  person: PersonSchema.optional(),
  /** Whether the presentity accepts messages now (false e.g. when all tuples are closed and no offline storage). */
  acceptsMessages: z.boolean().optional(),
  /** Monotonic per presentity; a lower version never overwrites a higher one (RFC 2779 3.3.2). */
  version: z.number().int().nonnegative(),
  provenance: ProvenanceSchema,
  extensions: ExtensionsSchema.default({}),
});
export type Presence = z.infer<typeof PresenceSchema>;

/** OPEN when any tuple is open (RFC 3863 leaves aggregation to the watcher; this is the usual rule). */
export function overallBasic(p: Pick<Presence, "tuples">): Basic {
  return p.tuples.some((t) => t.basic === "open") ? "open" : "closed";
}
