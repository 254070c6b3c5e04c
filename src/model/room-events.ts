/**
 * What happens in a canonical room (issue 12): a member's message, a change of membership, a new
 * subject. An adapter reports each as a {@link RoomEvent} naming the native room it saw it in;
 * the core finds the canonical room and delivers the activity once to every other native room.
 */
import { z } from "zod";
import { CanonicalIdSchema } from "./ids.js";
import { EndpointSchema } from "./address.js";
import { AuthenticationSchema, TimestampSchema } from "./common.js";
import { MessageSchema } from "./message.js";
import { NativeRoomSchema, RoomRefSchema, type NativeRoom } from "./room.js";

/** A member's message to the room: a canonical message without a single recipient. */
export const RoomMessageSchema = MessageSchema.omit({ to: true, receiptRequest: true });
export type RoomMessage = z.infer<typeof RoomMessageSchema>;
export type RoomMessageInput = z.input<typeof RoomMessageSchema>;

/** join, leave, a new nick or display name, kick and ban (with who did it and why). */
export const MembershipChangeSchema = z.enum(["join", "leave", "rename", "kick", "ban"]);
export type MembershipChange = z.infer<typeof MembershipChangeSchema>;

/** Display names and nicks are bounded here, whatever a network allows (issue 12, bad input). */
export const MAX_ROOM_NAME_CHARS = 256;
/** One line, no control characters (a subject may become a mail header): see {@link cleanRoomText}. */
export const MAX_SUBJECT_CHARS = 1024;

/** What every room event ends with: who vouched for its author, and when it happened. */
const stamped = { authenticatedBy: AuthenticationSchema, at: TimestampSchema };

export const MembershipSchema = z.object({
  id: CanonicalIdSchema,
  member: EndpointSchema,
  change: MembershipChangeSchema,
  displayName: z.string().max(MAX_ROOM_NAME_CHARS).optional(),
  /** Who kicked or banned the member, when not the member. */
  by: EndpointSchema.optional(),
  reason: z.string().max(MAX_SUBJECT_CHARS).optional(),
  ...stamped,
});
export type Membership = z.infer<typeof MembershipSchema>;

export const SubjectChangeSchema = z.object({
  id: CanonicalIdSchema,
  by: EndpointSchema,
  subject: z.string().max(MAX_SUBJECT_CHARS),
  ...stamped,
});
export type SubjectChange = z.infer<typeof SubjectChangeSchema>;

/**
 * A member displayed (read) a room message (issue 18 in rooms: XEP-0333 `<displayed/>` in
 * groupchat, a Matrix `m.read` receipt in the room). Shown as the member's puppet's own marker.
 */
export const RoomDisplayedSchema = z.object({
  id: CanonicalIdSchema,
  by: EndpointSchema,
  target: CanonicalIdSchema,
  ...stamped,
});
export type RoomDisplayed = z.infer<typeof RoomDisplayedSchema>;

export const RoomActivitySchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("message"), message: RoomMessageSchema }),
  z.object({ type: z.literal("membership"), membership: MembershipSchema }),
  z.object({ type: z.literal("subject"), subject: SubjectChangeSchema }),
  z.object({ type: z.literal("displayed"), displayed: RoomDisplayedSchema }),
]);
export type RoomActivity = z.infer<typeof RoomActivitySchema>;
export type RoomActivityInput = z.input<typeof RoomActivitySchema>;

/** An adapter saw `activity` in native room `room` on its own network. */
export interface RoomEvent {
  readonly kind: "room";
  readonly room: NativeRoom;
  readonly activity: RoomActivityInput;
}

/** The payload of a room delivery job: one activity for one native room. */
export const RoomDeliverySchema = z.object({
  room: RoomRefSchema,
  target: NativeRoomSchema,
  activity: RoomActivitySchema,
});
export type RoomDelivery = z.infer<typeof RoomDeliverySchema>;

/** The canonical id of an activity (job keys, the id map, logs). */
export function activityId(a: RoomActivity): string {
  switch (a.type) {
    case "message": return a.message.id;
    case "membership": return a.membership.id;
    case "subject": return a.subject.id;
    case "displayed": return a.displayed.id;
  }
}

/** How the actor was proved. */
export function activityAuth(a: RoomActivity): z.infer<typeof AuthenticationSchema> {
  switch (a.type) {
    case "message": return a.message.authenticatedBy;
    case "membership": return a.membership.authenticatedBy;
    case "subject": return a.subject.authenticatedBy;
    case "displayed": return a.displayed.authenticatedBy;
  }
}

/** The member who acted. */
export function activityActor(a: RoomActivity): z.infer<typeof EndpointSchema> {
  switch (a.type) {
    case "message": return a.message.from;
    case "membership": return a.membership.by ?? a.membership.member;
    case "subject": return a.subject.by;
    case "displayed": return a.displayed.by;
  }
}

/**
 * One line of room text (nick, subject, reason): control characters and CR/LF become a space, the
 * result is trimmed and cut to `max` characters (issue 12 bad input: a 1,000-character nick, a
 * subject with CR/LF).
 */
export function cleanRoomText(text: string, max: number): string {
  // eslint-disable-next-line no-control-regex -- removing control characters is the point
  return [...text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, " ").trim()].slice(0, max).join("").trim();
}
