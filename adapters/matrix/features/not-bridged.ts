/**
 * What a Matrix user in a puppet's DM does that Parley carries only in part, or not at all, and
 * says so once (RFC 2779: the sender learns what was not delivered): a poll's votes and results
 * (the question and answers cross as text), and calls (`m.call.invite`, client-server API "Voice
 * over IP": refused as the callee, so the caller's client stops ringing, with a notice once per
 * `call_id`; the other `m.call.*` events of that call say nothing).
 */
import { enc, Method } from "../homeserver.js";
import type { MatrixDeps } from "../deps.js";
import { noticeInRoom } from "../invites.js";
import type { RoomRecord } from "../rooms.js";
import type { MatrixEvent, Plan } from "../types.js";
import { errorMessage } from "../../../src/errors/message.js";

const CALL_NOTICE_TTL_SECONDS = 86_400;
/** The puppet's party id in the calls it refuses. */
const CALL_PARTY_ID = "parley";

export const pollNoticeText = (to: string): string =>
  `ℹ Your poll reached ${to} as text (the question and numbered answers). Votes and results are not bridged.`;

export const callNoticeText = (to: string): string =>
  `⚠ Calls are not bridged: ${to} cannot answer. Send a message instead.`;

/**
 * A notice in reply to `ev` from the room's owner (the puppet), with a transaction id of its own
 * (`parley.<tag>.<event id>`), so a refusal notice for the same event is never taken for it.
 */
export async function replyNotice(d: MatrixDeps, owner: string, ev: MatrixEvent, tag: string, text: string): Promise<void> {
  const content = { msgtype: "m.notice", body: text, "m.relates_to": { "m.in_reply_to": { event_id: ev.event_id } } };
  await d.hs.request(owner, Method.Put, `/rooms/${enc(ev.room_id)}/send/m.room.message/${enc(`parley.${tag}.${ev.event_id}`)}`, content);
}

/**
 * The callee's refusal of a call, which ends the caller's ringing (client-server API, "Voice over
 * IP"): `m.call.reject` for a version "1" invite, `m.call.hangup` for a version 0 one.
 */
export function callRefusal(invite: Readonly<Record<string, unknown>>, callId: string): { readonly type: string; readonly content: Record<string, unknown> } {
  const legacy = invite.version === 0 || invite.version === "0" || invite.version === undefined;
  return legacy
    ? { type: "m.call.hangup", content: { call_id: callId, version: 0 } }
    : { type: "m.call.reject", content: { call_id: callId, party_id: CALL_PARTY_ID, version: "1" } };
}

/** Any `m.call.*` event of the DM's user: true (handled); an invite plans the notice, once per call. */
export function callItem(d: MatrixDeps, plan: Plan, ev: MatrixEvent, rec: RoomRecord, to: string): boolean {
  if (!ev.type.startsWith("m.call.")) return false;
  const callId = ev.content.call_id;
  if (ev.type !== "m.call.invite" || typeof callId !== "string") return true;
  d.log.info({ eventId: ev.event_id, roomId: ev.room_id }, "call not bridged");
  plan.followups.push(async () => {
    const first = await d.ctx.state.setIfAbsent(`call-notice:${ev.room_id}|${callId.slice(0, 255)}`, "1", CALL_NOTICE_TTL_SECONDS);
    if (!first) return;
    const refusal = callRefusal(ev.content, callId);
    await d.hs.request(rec.owner, Method.Put, `/rooms/${enc(ev.room_id)}/send/${refusal.type}/${enc(`parley.call.${ev.event_id}`)}`, refusal.content)
      .catch((e: unknown) => d.log.info({ eventId: ev.event_id, err: errorMessage(e) }, "call not refused (the caller's client rings until the invite's lifetime ends)"));
    await noticeInRoom(d, rec.owner, ev.room_id, callNoticeText(to), ev.event_id);
  });
  return true;
}
