/**
 * Events of linked Matrix rooms into the core (issue 12): a member's `m.room.message` becomes a
 * room message, `m.room.member` a membership change, `m.room.topic` a subject. Events of Parley's
 * own users (puppets, the bot) are never bridged back; an invite of the bot into a linked room is
 * taken.
 */
import { newCanonicalId, type CanonicalId } from "../../../src/model/ids.js";
import { DEFAULT_HOPS, type Part } from "../../../src/model/message.js";
import { cleanRoomText, MAX_ROOM_NAME_CHARS, MAX_SUBJECT_CHARS, type MembershipChange, type RoomActivityInput } from "../../../src/model/room-events.js";
import { fromNative, isOwnUser } from "../address.js";
import { MATRIX } from "../config.js";
import { HOPS_KEY, htmlOf, kindFor, stripReplyFallback } from "../content.js";
import type { MatrixDeps } from "../deps.js";
import { reasonText } from "../errors.js";
import type { MatrixEvent, Plan } from "../types.js";
import { plausibleTime, isObj } from "../untrusted.js";
import { Method } from "../homeserver.js";
import { ensureJoined, linkFormOf } from "./linked.js";
import { ownUserMembership } from "./removed.js";
import { roomFeatureActivity } from "./features.js";
import { errorMessage } from "../../../src/errors/message.js";
import { isPollStart, LOCATION_MSGTYPE, locationParts, messageContentOf } from "../features/event-types.js";
import { replyNotice } from "../features/not-bridged.js";
import { MEDIA_MSGTYPES, mediaPartsOrWhy } from "../media/inbound.js";

type Obj = Record<string, unknown>;
const NOT_BRIDGED_IN_ROOM = "⚠ Not bridged: a message needs a string body and a text, notice, emote, location, image, file, audio or video msgtype";
const POLL_NOTICE_IN_ROOM = "ℹ Your poll reached the room's other networks as text (the question and numbered answers). Votes and results are not bridged.";
const AUTH = { method: "network" as const, detail: "application service hs_token" };

function membershipChange(ev: MatrixEvent): MembershipChange | undefined {
  const now = ev.content.membership;
  const before = isObj(ev.unsigned) && isObj(ev.unsigned.prev_content) ? ev.unsigned.prev_content.membership : undefined;
  if (now === "join") return before === "join" ? "rename" : "join";
  if (now === "ban") return "ban";
  if (now === "leave") return ev.sender !== ev.state_key ? "kick" : "leave";
  return undefined;
}

/** A member's message Parley refuses, with the reason the member is told (a file too large, of a refused type, …). */
class NotBridged {
  constructor(readonly reason: string) {}
}

/**
 * A file of a member (`m.image`, `m.file`, `m.audio`, `m.video`, a sticker as an image), downloaded
 * and stored as the DM path does (media/inbound.ts: the sender's network and domain limits, the
 * type checked from the bytes): its caption and the attachment, or why not.
 */
async function fileParts(d: MatrixDeps, ev: MatrixEvent, src: Obj, from: ReturnType<typeof fromNative>): Promise<Part[] | NotBridged> {
  const parts = await mediaPartsOrWhy(d, src, from, ev.event_id);
  return typeof parts === "string" ? new NotBridged(parts) : parts;
}

/** Text and sanitised HTML of a message's content, or a location's parts (features/event-types.ts). */
function partsOf(src: Obj, text: string): Part[] | undefined {
  if (src.msgtype === LOCATION_MSGTYPE) return locationParts(src);
  const html = htmlOf(src);
  return [{ role: "text", body: text }, ...(html !== "" ? [{ role: "html" as const, body: html }] : [])];
}

/** A member's message (an `m.room.message`, or a poll as text; `c` from messageContentOf) → a room message. */
async function messageActivity(d: MatrixDeps, ev: MatrixEvent, c: Obj, from: ReturnType<typeof fromNative>): Promise<RoomActivityInput | NotBridged | undefined> {
  const relates = isObj(c["m.relates_to"]) ? c["m.relates_to"] : {};
  const isEdit = relates.rel_type === "m.replace" && isObj(c["m.new_content"]);
  const src = isEdit ? (c["m.new_content"] as Obj) : c;
  if (typeof src.msgtype !== "string" || typeof src.body !== "string") return undefined;
  const isFile = MEDIA_MSGTYPES.has(src.msgtype);
  const kind = src.msgtype === LOCATION_MSGTYPE || isFile ? "chat" : kindFor(src.msgtype);
  if (kind === undefined) return undefined;
  const replyTo = isObj(relates["m.in_reply_to"]) ? relates["m.in_reply_to"].event_id : undefined;
  const canonicalOf = async (id: unknown) => (typeof id === "string" ? d.ctx.ids.canonicalFor({ network: MATRIX, kind: "event", id, scope: ev.room_id }) : undefined);
  const parts = isFile ? await fileParts(d, ev, src, from) : partsOf(src, replyTo !== undefined && !isEdit ? stripReplyFallback(src.body) : src.body);
  if (parts === undefined || parts instanceof NotBridged) return parts;
  const hops = c[HOPS_KEY];
  return { type: "message", message: {
    id: newCanonicalId(), nativeIds: [{ network: MATRIX, kind: "event", id: ev.event_id, scope: ev.room_id }],
    from, authenticatedBy: AUTH, sentAt: plausibleTime(ev.origin_server_ts) ?? new Date().toISOString(), kind, parts,
    inReplyTo: isEdit ? undefined : await canonicalOf(replyTo),
    replaces: isEdit ? await canonicalOf(relates.event_id) : undefined,
    hops: typeof hops === "number" && Number.isInteger(hops) && hops >= 0 && hops <= 255 ? hops : DEFAULT_HOPS,
  } };
}

async function activityOf(d: MatrixDeps, ev: MatrixEvent): Promise<RoomActivityInput | NotBridged | undefined> {
  const mappings = d.ctx.mappings();
  const at = plausibleTime(ev.origin_server_ts) ?? new Date().toISOString();
  if (ev.type === "m.room.member" && typeof ev.state_key === "string") {
    if (isOwnUser(ev.state_key, mappings)) return undefined;
    const change = membershipChange(ev);
    if (!change) return undefined;
    const name = typeof ev.content.displayname === "string" ? cleanRoomText(ev.content.displayname, MAX_ROOM_NAME_CHARS) : undefined;
    const reason = typeof ev.content.reason === "string" ? cleanRoomText(ev.content.reason, 1024) : undefined;
    const by = ev.sender !== ev.state_key && !isOwnUser(ev.sender, mappings) ? fromNative(ev.sender, mappings) : undefined;
    return { type: "membership", membership: { id: newCanonicalId(), member: fromNative(ev.state_key, mappings), change, displayName: name || undefined, by, reason, authenticatedBy: AUTH, at } };
  }
  if (isOwnUser(ev.sender, mappings)) return undefined;
  const from = fromNative(ev.sender, mappings);
  if (ev.type === "m.room.topic" && typeof ev.content.topic === "string") {
    return { type: "subject", subject: { id: newCanonicalId(), by: from, subject: cleanRoomText(ev.content.topic, MAX_SUBJECT_CHARS), authenticatedBy: AUTH, at } };
  }
  const content = messageContentOf(ev);
  if (content !== undefined) return messageActivity(d, ev, content, from);
  return roomFeatureActivity(d, ev, from);
}

/** The bridge bot answers a member's event with a notice in reply to it (once per event: the txn id is the event's). */
async function notice(d: MatrixDeps, ev: MatrixEvent, text: string): Promise<void> {
  await d.hs.request(d.bot, Method.Put, `/rooms/${encodeURIComponent(ev.room_id)}/send/m.room.message/${encodeURIComponent(`parley.refused.${ev.event_id}`)}`, { msgtype: "m.notice", body: text, "m.relates_to": { "m.in_reply_to": { event_id: ev.event_id } } }).catch(() => undefined);
}

/** Plan an event of a linked room or an open room's portal; false when it is neither (the caller handles it). */
export async function linkedRoomEvent(d: MatrixDeps, plan: Plan, ev: MatrixEvent): Promise<boolean> {
  const form = await linkFormOf(d, ev.room_id);
  const linked = d.ctx.mappings().rooms?.find(MATRIX, form) !== undefined;
  // An open room is found by the form it was opened with: a portal's room id, or a Matrix room's alias (linkof).
  if (!linked && (await d.ctx.rooms?.find({ network: MATRIX, id: form })) === undefined) return false;
  if (ev.type === "m.room.member" && ev.state_key === d.bot && ev.content.membership === "invite") {
    plan.followups.push(async () => { await ownUserMembership(d, ev); await ensureJoined(d, ev.room_id, d.bot); });
    return true;
  }
  if (ev.type === "m.room.member" && typeof ev.state_key === "string" && isOwnUser(ev.state_key, d.ctx.mappings())) {
    await ownUserMembership(d, ev);
    return true;
  }
  let activity: RoomActivityInput | NotBridged | undefined;
  try {
    activity = await activityOf(d, ev);
  } catch (e) {
    d.log.info({ eventId: ev.event_id, err: errorMessage(e) }, "linked room event not bridged");
    return true;
  }
  if (activity instanceof NotBridged) {
    // A file over the limits, of a refused type or not downloadable: its sender hears why, as in a DM.
    const why = activity.reason;
    plan.followups.push(() => notice(d, ev, `⚠ Not bridged: ${why}`));
    return true;
  }
  if (!activity) {
    // A member's message Parley cannot read (no string body, an unknown msgtype) is not silently dropped: its sender is told.
    if (messageContentOf(ev) !== undefined && !isOwnUser(ev.sender, d.ctx.mappings())) plan.followups.push(() => notice(d, ev, NOT_BRIDGED_IN_ROOM));
    return true;
  }
  plan.items.push({
    event: { kind: "room", room: { network: MATRIX, id: form }, activity },
    onResult: async (r) => {
      if (r.status === "accepted" && activity.type === "message") {
        await d.ctx.ids.link(r.messageId ?? (activity.message.id as CanonicalId), { network: MATRIX, kind: "event", id: ev.event_id, scope: ev.room_id });
        if (isPollStart(ev.type)) plan.followups.push(() => replyNotice(d, d.bot, ev, "poll", POLL_NOTICE_IN_ROOM));
      } else if (r.status === "refused") {
        plan.followups.push(() => notice(d, ev, `⚠ Not bridged: ${r.error.message || reasonText(r.error.info.reason)}`));
      }
    },
  });
  return true;
}
