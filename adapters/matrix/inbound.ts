/**
 * Matrix → canonical (issue 4 steps 2–4; Matrix spec, Application Service API "Pushing events"):
 * the events of one transaction become a plan — canonical events for one `ctx.accept` call, each
 * with what to do with its result, and side effects (invites, notices) to run once acknowledged.
 */
import { newCanonicalId, type CanonicalId } from "../../src/model/ids.js";
import { DEFAULT_HOPS, MessageSchema, type Part } from "../../src/model/message.js";
import type { Endpoint } from "../../src/model/address.js";
import { fromNative, isOwnUser } from "./address.js";
import { handleBotMessage } from "./bot.js";
import { MATRIX } from "./config.js";
import { HOPS_KEY, htmlOf, htmlToText, kindFor, stripReplyFallback } from "./content.js";
import type { MatrixDeps } from "./deps.js";
import { reasonText, refusalFields } from "./errors.js";
import { E2E_NOTICE, handleInvite, noticeInRoom } from "./invites.js";
import { presenceFromMatrix } from "./presence.js";
import type { RoomRecord } from "./rooms.js";
import type { MatrixEvent, Plan } from "./types.js";
import { plausibleTime, isObj } from "./untrusted.js";
import { linkedRoomEvent } from "./rooms/inbound.js";
import { linkedRoomReceipts, linkedRoomTyping } from "./rooms/features.js";
import { MEDIA_MSGTYPES, mediaPartsOrWhy } from "./media/inbound.js";
import { errorMessage } from "../../src/errors/message.js";
import { interactionItem, typingItem } from "./features/inbound.js";
import { isPollStart, LOCATION_MSGTYPE, locationParts, messageContentOf } from "./features/event-types.js";
import { callItem, pollNoticeText, replyNotice } from "./features/not-bridged.js";

type Obj = Record<string, unknown>;

function endpointOf(d: MatrixDeps, userId: string): Endpoint | undefined {
  try {
    return fromNative(userId, d.ctx.mappings());
  } catch {
    return undefined;
  }
}

async function canonicalOf(d: MatrixDeps, eventId: unknown, roomId: string): Promise<CanonicalId | undefined> {
  if (typeof eventId !== "string") return undefined;
  return d.ctx.ids.canonicalFor({ network: MATRIX, kind: "event", id: eventId, scope: roomId });
}

/** What a message event in a puppet's DM is: the event, its content as a message (features/event-types.ts), the parties. */
interface DmMessage { readonly ev: MatrixEvent; readonly c: Obj; readonly rec: RoomRecord; readonly to: Endpoint; readonly from: Endpoint }

/** The parts of a message's content: text (and sanitised HTML), a location, or a file; a string says why not. */
async function partsOf(d: MatrixDeps, m: DmMessage, src: Obj, text: string): Promise<Part[] | string> {
  if (src.msgtype === LOCATION_MSGTYPE) return locationParts(src) ?? "the location has no valid geo: URI";
  const html = htmlOf(src);
  // RFC 2779 4.1.7: a client that sent only HTML (an empty `body`) still gets a text alternative.
  const plain = text.trim() === "" && html !== "" ? htmlToText(html) : text;
  if (!MEDIA_MSGTYPES.has(String(src.msgtype))) return [{ role: "text", body: plain }, ...(html !== "" ? [{ role: "html" as const, body: html }] : [])];
  // Downloaded and stored before the transaction is acknowledged (media/inbound.ts).
  return mediaPartsOrWhy(d, src, m.from, m.ev.event_id);
}

/**
 * A message in a puppet's DM (an `m.room.message`, a sticker, a poll) → a canonical message, or a
 * notice saying why not; `onAccepted` runs once the core accepted it.
 */
async function messageItem(d: MatrixDeps, plan: Plan, m: DmMessage, onAccepted?: () => Promise<void>): Promise<void> {
  const { ev, c, rec, to, from } = m;
  const relates = isObj(c["m.relates_to"]) ? c["m.relates_to"] : {};
  const isEdit = relates.rel_type === "m.replace" && isObj(c["m.new_content"]);
  const src = isEdit ? (c["m.new_content"] as Obj) : c;
  const tell = (text: string) => plan.followups.push(() => noticeInRoom(d, rec.owner, ev.room_id, text, ev.event_id));
  if (typeof src.msgtype !== "string" || typeof src.body !== "string") {
    d.log.info({ eventId: ev.event_id }, "malformed message");
    tell(`⚠ Not delivered to ${to.address}: the message is malformed (no text body).`);
    return;
  }
  const kind = MEDIA_MSGTYPES.has(src.msgtype) || src.msgtype === LOCATION_MSGTYPE ? "chat" : kindFor(src.msgtype);
  if (kind === undefined) {
    d.log.info({ eventId: ev.event_id, msgtype: src.msgtype }, "unbridgeable message");
    tell(`⚠ Not delivered to ${to.address}: Parley cannot bridge ${src.msgtype} messages.`);
    return;
  }
  const inReplyToEvent = isObj(relates["m.in_reply_to"]) ? relates["m.in_reply_to"].event_id : undefined;
  const given = inReplyToEvent !== undefined && !isEdit ? stripReplyFallback(src.body) : src.body;
  const parts = await partsOf(d, m, src, given);
  if (typeof parts === "string") {
    tell(`⚠ Not delivered to ${to.address}: ${parts}.`);
    return;
  }
  const hops = c[HOPS_KEY];
  const parsed = MessageSchema.safeParse({
    id: newCanonicalId(),
    nativeIds: [{ network: MATRIX, kind: "event", id: ev.event_id, scope: ev.room_id }],
    from, to,
    authenticatedBy: { method: "network", detail: "application service hs_token" },
    sentAt: plausibleTime(ev.origin_server_ts) ?? new Date().toISOString(),
    kind, parts,
    inReplyTo: isEdit ? undefined : await canonicalOf(d, inReplyToEvent, ev.room_id),
    replaces: isEdit ? await canonicalOf(d, relates.event_id, ev.room_id) : undefined,
    hops: typeof hops === "number" && Number.isInteger(hops) && hops >= 0 && hops <= 255 ? hops : DEFAULT_HOPS,
  });
  if (!parsed.success) {
    d.log.info({ eventId: ev.event_id, issue: parsed.error.issues[0]?.message }, "malformed message");
    tell(`⚠ Not delivered to ${to.address}: the message is malformed.`);
    return;
  }
  const message = parsed.data;
  plan.items.push({
    event: { kind: "message", message },
    onResult: async (r) => {
      if (r.status === "accepted") {
        await d.ctx.ids.link(r.messageId ?? message.id, { network: MATRIX, kind: "event", id: ev.event_id, scope: ev.room_id });
        if (onAccepted) plan.followups.push(onAccepted);
      } else if (r.status === "refused") {
        plan.followups.push(() => noticeInRoom(d, rec.owner, ev.room_id, `⚠ Not delivered to ${to.address}: ${r.error.message || reasonText(r.error.info.reason)}`, ev.event_id, refusalFields(r.error)));
      }
    },
  });
}

async function roomEvent(d: MatrixDeps, plan: Plan, ev: MatrixEvent): Promise<void> {
  if (await linkedRoomEvent(d, plan, ev)) return;
  const mappings = d.ctx.mappings();
  if (ev.type === "m.room.member" && typeof ev.state_key === "string") {
    const membership = ev.content.membership;
    if (membership === "invite" && (isOwnUser(ev.state_key, mappings))) {
      const target = ev.state_key;
      plan.followups.push(() => handleInvite(d, ev.room_id, ev.sender, target, ev.content));
      return;
    }
    if (membership === "leave" || membership === "ban") {
      const rec = await d.rooms.record(ev.room_id);
      if (rec && rec.user === ev.state_key) plan.followups.push(() => d.rooms.abandon(ev.room_id));
    }
    return;
  }
  const rec = await d.rooms.record(ev.room_id);
  if (!rec) return;
  if (ev.type === "m.room.encryption" || ev.type === "m.room.encrypted") {
    const who = rec.kind === "dm" ? (endpointOf(d, rec.owner)?.address ?? rec.owner) : "the bridge bot";
    plan.followups.push(async () => {
      if (await d.ctx.state.setIfAbsent(`e2e:${ev.room_id}`, "1", 86_400)) await noticeInRoom(d, rec.owner, ev.room_id, E2E_NOTICE(who));
      await d.rooms.abandon(ev.room_id);
    });
    return;
  }
  if (await interactionItem(d, plan, ev, rec)) return;
  if (ev.sender !== rec.user) return;
  if (rec.kind === "bot") {
    if (ev.type === "m.room.message") await handleBotMessage(d, plan, ev, rec);
    return;
  }
  const to = endpointOf(d, rec.owner);
  const from = endpointOf(d, ev.sender);
  if (!to || !from || from.network !== MATRIX) return;
  if (callItem(d, plan, ev, rec, to.address)) return;
  // Anything else (poll responses and ends, state, unknown types) is not a message: nothing to say.
  const c = messageContentOf(ev);
  if (c === undefined) return;
  const pollNotice = isPollStart(ev.type) ? () => replyNotice(d, rec.owner, ev, "poll", pollNoticeText(to.address)) : undefined;
  await messageItem(d, plan, { ev, c, rec, to, from }, pollNotice);
}

async function receiptItems(d: MatrixDeps, plan: Plan, ev: Obj): Promise<void> {
  const roomId = ev.room_id;
  if (typeof roomId !== "string" || !isObj(ev.content)) return;
  const rec = await d.rooms.record(roomId);
  if (!rec || rec.kind !== "dm") return;
  const sender = endpointOf(d, rec.owner);
  const reader = endpointOf(d, rec.user);
  if (!sender || !reader) return;
  for (const [eventId, receipt] of Object.entries(ev.content)) {
    if (!isObj(receipt) || !isObj(receipt["m.read"]) || !(rec.user in receipt["m.read"])) continue;
    const messageId = await canonicalOf(d, eventId, roomId);
    if (messageId === undefined) continue;
    plan.items.push({ event: { kind: "delivery-status", status: {
      messageId, sender, recipient: reader, state: "displayed", at: new Date().toISOString(), extensions: {},
    } } });
  }
}

/**
 * The event if it fits `maxEventBytes`; else the event without its formatting when that fits
 * (degrade before refusing: issue 11, class 8); else its size.
 */
function withinSize(d: MatrixDeps, ev: MatrixEvent): MatrixEvent | number {
  const size = Buffer.byteLength(JSON.stringify(ev));
  if (size <= d.config.maxEventBytes) return ev;
  const plain = (c: Obj): Obj => {
    const { format: _f, formatted_body: _fb, ...rest } = c;
    return rest;
  };
  const content = plain(ev.content);
  if (isObj(content["m.new_content"])) content["m.new_content"] = plain(content["m.new_content"]);
  const stripped = { ...ev, content };
  const strippedSize = Buffer.byteLength(JSON.stringify(stripped));
  if (strippedSize > d.config.maxEventBytes) return size;
  d.log.info({ eventId: ev.event_id, size, strippedSize }, "event over the size limit: formatting dropped, text kept");
  return stripped;
}

/** Build the plan of one transaction. `events` are already deduplicated by event id. */
export async function planTransaction(d: MatrixDeps, events: readonly MatrixEvent[], ephemeral: readonly Obj[]): Promise<Plan> {
  const plan: Plan = { items: [], followups: [] };
  const mappings = d.ctx.mappings();
  for (const original of events) {
    if (isOwnUser(original.sender, mappings)) continue; // Parley's own puppets and bot: recognised by id
    const ev = withinSize(d, original);
    if (typeof ev === "number") {
      await skipEvent(d, plan, original, `the message has ${ev} bytes, more than ${d.config.maxEventBytes}`);
      continue;
    }
    const before = plan.items.length;
    try {
      await roomEvent(d, plan, ev);
    } catch (e) {
      // One event Parley cannot use never costs the transaction (issue 11, class 2): drop what it
      // planned, say so, and go on. Storage failures surface later, from ctx.accept.
      plan.items.splice(before);
      await skipEvent(d, plan, ev, "Parley could not read it", e);
    }
  }
  for (const e of ephemeral) {
    try {
      await ephemeralItem(d, plan, e);
    } catch (err) {
      d.log.warn({ type: e.type, err: errorMessage(err) }, "ephemeral event skipped");
    }
  }
  return plan;
}

async function ephemeralItem(d: MatrixDeps, plan: Plan, e: Obj): Promise<void> {
  if (e.type === "m.presence" && typeof e.sender === "string" && !isOwnUser(e.sender, d.ctx.mappings())) {
    const who = endpointOf(d, e.sender);
    const p = who && who.network === MATRIX && isObj(e.content) ? presenceFromMatrix(who, e.content) : undefined;
    if (p) plan.items.push({ event: p });
  } else if (e.type === "m.receipt") {
    await receiptItems(d, plan, e);
    await linkedRoomReceipts(d, plan, e);
  } else if (e.type === "m.typing") {
    await typingItem(d, plan, e);
    await linkedRoomTyping(d, plan, e);
  }
}

/**
 * Skip an event Parley cannot use: a log line always, and a notice in the room when it is one of
 * Parley's rooms (so the sender learns it was not delivered). Never a silent drop.
 */
export async function skipEvent(d: MatrixDeps, plan: Plan, ev: { event_id?: unknown; room_id?: unknown; sender?: unknown }, why: string, err?: unknown): Promise<void> {
  const eventId = typeof ev.event_id === "string" ? ev.event_id : undefined;
  const roomId = typeof ev.room_id === "string" ? ev.room_id : undefined;
  d.log.warn({ event: "matrix-event-skipped", eventId, roomId, reason: why, ...(err instanceof Error ? { err: err.message } : {}) }, "event skipped");
  if (roomId === undefined || (typeof ev.sender === "string" && isOwnUser(ev.sender, d.ctx.mappings()))) return;
  const rec = await d.rooms.record(roomId);
  if (rec) plan.followups.push(() => noticeInRoom(d, rec.owner, roomId, `⚠ Not delivered: ${why}.`, eventId));
}
