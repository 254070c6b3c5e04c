/**
 * Canonical message (DESIGN §2), shaped after Message/CPIM (RFC 3862).
 */
import { z } from "zod";
import { CanonicalIdSchema } from "./ids.js";
import { EndpointSchema } from "./address.js";
import { AuthenticationSchema, ExtensionsSchema, LangMapSchema, TimestampSchema } from "./common.js";
import { ReactionSchema } from "./interactions.js";

/** Hop count when a message carries none (DESIGN §3). */
export const DEFAULT_HOPS = 20;

/** A native id with the scope in which it is unique (XEP-0359 `by`, a Matrix room, a mail host…). */
export const NativeIdSchema = z.object({
  network: z.string().min(1).max(32),
  /** What kind of id: e.g. "stanza-id", "origin-id", "event", "message-id". */
  kind: z.string().min(1).max(32),
  id: z.string().min(1).max(1024),
  scope: z.string().max(1024).optional(),
});
export type NativeId = z.infer<typeof NativeIdSchema>;

export const PartSchema = z.discriminatedUnion("role", [
  z.object({ role: z.literal("text"), body: z.string(), lang: z.string().max(35).optional() }),
  /** Sanitised HTML (adapters sanitise on the way in). Always accompanied by a text part. */
  z.object({ role: z.literal("html"), body: z.string() }),
  z.object({
    role: z.literal("attachment"),
    contentType: z.string().max(255),
    filename: z.string().max(255).optional(),
    size: z.number().int().nonnegative(),
    /** Reference into the blob store (`sha256:<hex>`, also the content's hash); never the bytes. */
    blobRef: z.string().max(1024),
    /** Image or video dimensions in pixels, where known. */
    width: z.number().int().positive().max(100_000).optional(),
    height: z.number().int().positive().max(100_000).optional(),
    /** Audio or video length in milliseconds, where known. */
    durationMs: z.number().int().nonnegative().optional(),
  }),
  /** An encrypted or signed part relayed untouched (RFC 3862 §5; RFC 2779 2.5.1, 5.4.9). */
  z.object({
    role: z.literal("opaque"),
    contentType: z.string().max(255),
    blobRef: z.string().max(1024),
    size: z.number().int().nonnegative(),
    security: z.enum(["encrypted", "signed"]),
  }),
]);
export type Part = z.infer<typeof PartSchema>;

export const MessageKindSchema = z.enum(["chat", "normal", "notice", "emote"]);
export type MessageKind = z.infer<typeof MessageKindSchema>;

export const MessageSchema = z.object({
  id: CanonicalIdSchema,
  nativeIds: z.array(NativeIdSchema).max(16).default([]),
  from: EndpointSchema,
  /** How `from` was proved; an unproved sender never appears as trusted on the other side. */
  authenticatedBy: AuthenticationSchema,
  displayName: z.string().max(256).optional(),
  to: EndpointSchema,
  replyTo: EndpointSchema.optional(),
  sentAt: TimestampSchema,
  subject: LangMapSchema.optional(),
  kind: MessageKindSchema.default("chat"),
  thread: z.string().max(1024).optional(),
  inReplyTo: CanonicalIdSchema.optional(),
  /** When set, this message replaces the content of an earlier one (XEP-0308, Matrix m.replace). */
  replaces: CanonicalIdSchema.optional(),
  /** When set, this message is a reaction change on an earlier one, not content (issue 18). */
  reaction: ReactionSchema.optional(),
  /** When set, this message retracts an earlier one of the same sender (XEP-0424, a Matrix redaction). */
  retracts: CanonicalIdSchema.optional(),
  /**
   * With `retracts`, in a room: a moderator's retraction of someone else's message (XEP-0425, a
   * Matrix redaction by a member whose power level allows `redact`), with the moderator's reason.
   * The network it came from checked the moderator's right (the MUC's role, the homeserver's power levels).
   */
  moderation: z.object({ reason: z.string().max(1024).optional() }).optional(),
  lang: z.string().max(35).optional(),
  parts: z.array(PartSchema).min(1).max(200),
  receiptRequest: z.object({ delivered: z.boolean(), displayed: z.boolean() }).optional(),
  /** Marks the sender wanted end-to-end protection: never delivered in clear (RFC 2779 5.4.6). */
  requireE2E: z.boolean().optional(),
  hops: z.number().int().min(0).max(255).default(DEFAULT_HOPS),
  extensions: ExtensionsSchema.default({}),
});
export type Message = z.infer<typeof MessageSchema>;
export type MessageInput = z.input<typeof MessageSchema>;

/** The plain text of a message: its text parts joined, for networks and logs that want one string. */
export function plainText(m: Pick<Message, "parts">): string {
  return m.parts
    .filter((p): p is Extract<Part, { role: "text" }> => p.role === "text")
    .map((p) => p.body)
    .join("\n");
}
