/**
 * Everyday chat features out to Matrix users (issue 18): a reaction is the puppet's `m.reaction`
 * annotation (removed by redacting it), a retraction redacts the puppet's message (in a linked room,
 * a moderator's retraction is the bridge bot's redaction of anyone's message), typing is the
 * puppet's `m.typing` in an existing DM (never a new room for it).
 */
import { DeliveryError, type DeliveryOutcome } from "../../../src/adapter/contract.js";
import { isTyping, type TypingNotice } from "../../../src/model/interactions.js";
import type { Message, NativeId } from "../../../src/model/message.js";
import type { RoomMessage } from "../../../src/model/room-events.js";
import type { RoomTypingNotice } from "../../../src/adapter/features.js";
import { MATRIX } from "../config.js";
import type { MatrixDeps } from "../deps.js";
import { classify, errcodeOf } from "../errors.js";
import { enc, Method } from "../homeserver.js";
import { localUserId, nativeOrFail, txnIdFor } from "../outbound.js";

const REACTIONS_TTL_SECONDS = 30 * 24 * 3600;
/** How long Matrix shows the puppet typing unless told otherwise (client-server API "Typing Notifications"). */
const TYPING_TIMEOUT_MS = 30_000;
const NOTHING: DeliveryOutcome = { state: "relayed", nativeIds: [] };

async function redact(d: MatrixDeps, puppet: string, target: NativeId, txnId: string): Promise<void> {
  await d.hs.request(puppet, Method.Put, `/rooms/${enc(target.scope ?? "")}/redact/${enc(target.id)}/${enc(txnId)}`, { reason: "retracted on the sender's network" });
}

async function react(d: MatrixDeps, m: Pick<Message, "id" | "reaction">, puppet: string, target: NativeId): Promise<DeliveryOutcome> {
  const r = m.reaction!;
  const key = `rx-out:${puppet}:${target.id}:${r.key}`;
  if (r.op === "remove") {
    const eventId = await d.ctx.state.get(key);
    if (eventId !== undefined) await redact(d, puppet, { ...target, id: eventId }, txnIdFor(m.id));
    await d.ctx.state.delete(key);
    return NOTHING;
  }
  const content = { "m.relates_to": { rel_type: "m.annotation", event_id: target.id, key: r.key } };
  const { event_id: eventId } = await d.hs.request<{ event_id: string }>(puppet, Method.Put, `/rooms/${enc(target.scope ?? "")}/send/m.reaction/${enc(txnIdFor(m.id))}`, content);
  await d.ctx.state.set(key, eventId, REACTIONS_TTL_SECONDS);
  return { state: "relayed", nativeIds: [{ network: MATRIX, kind: "event", id: eventId, scope: target.scope }] };
}

/** Deliver a reaction or a retraction; undefined for an ordinary message. */
export async function deliverInteraction(d: MatrixDeps, m: Message): Promise<DeliveryOutcome | undefined> {
  const targetId = m.reaction?.target ?? m.retracts;
  if (targetId === undefined) return undefined;
  localUserId(d, m.to);
  const puppet = nativeOrFail(d, m.from);
  try {
    const target = await d.ctx.ids.nativeFor(targetId, MATRIX, "event");
    if (target?.scope === undefined) {
      d.log.info({ messageId: m.id, target: targetId }, "the message it refers to never reached Matrix: nothing to show");
      return NOTHING;
    }
    if (m.reaction !== undefined) return await react(d, m, puppet, target);
    await redact(d, puppet, target, txnIdFor(m.id));
    return NOTHING;
  } catch (e) {
    throw classify(e, m.reaction ? "sending a reaction" : "redacting a message");
  }
}

/**
 * A reaction or a retraction in a linked room (issue 18 in rooms), by the member's puppet already
 * in the room; undefined for an ordinary message. A target that never reached this room shows nothing.
 */
export async function deliverRoomInteraction(d: MatrixDeps, m: RoomMessage, puppet: string, roomId: string): Promise<DeliveryOutcome | undefined> {
  const targetId = m.reaction?.target ?? m.retracts;
  if (targetId === undefined) return undefined;
  const target = await d.ctx.ids.nativeFor(targetId, MATRIX, "event");
  if (target?.scope !== roomId) {
    d.log.info({ messageId: m.id, target: targetId, roomId }, "the room message it refers to never reached this Matrix room: nothing to show");
    return NOTHING;
  }
  if (m.reaction !== undefined) return react(d, m, puppet, target);
  if (m.moderation !== undefined) return moderate(d, m, target);
  await redact(d, puppet, target, txnIdFor(m.id));
  return NOTHING;
}

/**
 * A moderator's retraction from another network (XEP-0425 in a MUC): the bridge bot redacts
 * the message, with the moderator's reason and name. The bot needs the room's `redact` power level
 * (default 50); with less, the homeserver refuses (M_FORBIDDEN): logged as `feature-dropped`, and
 * the delivery fails for good, which counts it and tells the moderator.
 */
async function moderate(d: MatrixDeps, m: RoomMessage, target: NativeId): Promise<DeliveryOutcome> {
  const who = m.displayName ?? m.from.address;
  const reason = m.moderation?.reason ? `${m.moderation.reason} (moderated by ${who} on ${m.from.network})` : `moderated by ${who} on ${m.from.network}`;
  try {
    await d.hs.request(d.bot, Method.Put, `/rooms/${enc(target.scope ?? "")}/redact/${enc(target.id)}/${enc(txnIdFor(m.id))}`, { reason: reason.slice(0, 1024) });
    return NOTHING;
  } catch (e) {
    const err = classify(e, "moderating a message");
    if (errcodeOf(e) === "M_FORBIDDEN") {
      d.log.info({ event: "feature-dropped", feature: "moderation", messageId: m.id, network: MATRIX, roomId: target.scope, from: m.from.address, detail: err.nativeDetail }, "moderation not shown in the Matrix room: the bridge bot lacks the power level to redact others' events");
      throw new DeliveryError("permanent", "refused-by-policy", `the bridge bot may not redact others' messages in the Matrix room (it needs the room's "redact" power level)`, { nativeDetail: err.nativeDetail, cause: e });
    }
    throw err;
  }
}

/** A member's typing in a linked room, by their puppet only when it is already in the room. */
export async function deliverRoomTyping(d: MatrixDeps, n: RoomTypingNotice, roomId: string): Promise<void> {
  const puppet = nativeOrFail(d, n.from);
  if ((await d.ctx.state.get(`joined:${roomId}|${puppet}`)) === undefined) return;
  const typing = isTyping(n.state);
  await d.hs.request(puppet, Method.Put, `/rooms/${enc(roomId)}/typing/${enc(puppet)}`, typing ? { typing, timeout: TYPING_TIMEOUT_MS } : { typing });
}

export async function deliverTyping(d: MatrixDeps, n: TypingNotice): Promise<void> {
  const user = localUserId(d, n.to);
  const puppet = nativeOrFail(d, n.from);
  const roomId = await d.rooms.existing(puppet, user);
  if (roomId === undefined) return;
  const typing = isTyping(n.state);
  await d.hs.request(puppet, Method.Put, `/rooms/${enc(roomId)}/typing/${enc(puppet)}`, typing ? { typing, timeout: TYPING_TIMEOUT_MS } : { typing });
}
