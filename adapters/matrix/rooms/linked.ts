/**
 * Linked Matrix rooms (issue 12; client-server API "Joining rooms", "Room aliases", application
 * service API "Server admin style permissions"): puppets of foreign members join the room and post
 * in it as themselves; the bridge bot sits in the room so the homeserver pushes its events to
 * Parley. A room linked by alias is resolved once and remembered (`alias:<alias>` → room id,
 * `linkof:<room id>` → the form the mappings name).
 */
import { DeliveryError, type DeliveryOutcome } from "../../../src/adapter/contract.js";
import type { NativeId } from "../../../src/model/message.js";
import type { CanonicalId } from "../../../src/model/ids.js";
import { activityActor, cleanRoomText, MAX_ROOM_NAME_CHARS, type RoomDelivery } from "../../../src/model/room-events.js";
import { MATRIX } from "../config.js";
import type { MatrixDeps } from "../deps.js";
import { classify, errcodeOf } from "../errors.js";
import { enc, Method } from "../homeserver.js";
import { contentFor, nativeOrFail, txnIdFor } from "../outbound.js";
import { attachmentsOf, fileContents } from "../media/outbound.js";
import { errorMessage } from "../../../src/errors/message.js";
import type { RoomTypingNotice } from "../../../src/adapter/features.js";
import { deliverRoomInteraction, deliverRoomTyping } from "../features/outbound.js";
import { refuseIfRemoved } from "./removed.js";

/** The room id of a linked room's native form (an alias is asked of the homeserver once). */
export async function roomIdOf(d: MatrixDeps, native: string): Promise<string> {
  if (native.startsWith("!")) return native;
  const known = await d.ctx.state.get(`alias:${native}`);
  if (known !== undefined) return known;
  const { room_id: roomId } = await d.hs.request<{ room_id: string }>(d.bot, Method.Get, `/directory/room/${enc(native)}`);
  await d.ctx.state.set(`alias:${native}`, roomId);
  await d.ctx.state.set(`linkof:${roomId}`, native);
  return roomId;
}

/** The server part of a room id (`!opaque:server`), whose domain's media limits a linked room's files meet. */
export function serverOf(roomId: string): string {
  return roomId.slice(roomId.indexOf(":") + 1).replace(/:\d+$/, "").toLowerCase();
}

/** The native form the mappings use for a room id Parley has seen (the id itself, or its alias). */
export async function linkFormOf(d: MatrixDeps, roomId: string): Promise<string> {
  return (await d.ctx.state.get(`linkof:${roomId}`)) ?? roomId;
}

/** `user` (a puppet or the bot) is in the room: join, and when the room wants an invite, the bot invites first; never after a room member removed it (removed.ts). */
export async function ensureJoined(d: MatrixDeps, roomId: string, user: string): Promise<void> {
  if ((await d.ctx.state.get(`joined:${roomId}|${user}`)) !== undefined) return;
  await refuseIfRemoved(d, roomId, user);
  try {
    await d.hs.request(user, Method.Post, `/join/${enc(roomId)}`, {});
  } catch (e) {
    if (errcodeOf(e) !== "M_FORBIDDEN" || user === d.bot) throw e;
    await ensureJoined(d, roomId, d.bot);
    await d.hs.request(d.bot, Method.Post, `/rooms/${enc(roomId)}/invite`, { user_id: user });
    await d.hs.request(user, Method.Post, `/join/${enc(roomId)}`, {});
  }
  await d.ctx.state.set(`joined:${roomId}|${user}`, "1");
  d.removedRooms?.clear(roomId, user);
}

async function leave(d: MatrixDeps, roomId: string, user: string): Promise<void> {
  await d.ctx.state.delete(`joined:${roomId}|${user}`);
  await d.hs.request(user, Method.Post, `/rooms/${enc(roomId)}/leave`, {}).catch(() => undefined);
}

/** A member's read marker: the puppet's `m.read` on the event, when the puppet is in the room and the event reached it. */
async function readReceipt(d: MatrixDeps, puppet: string, roomId: string, target: CanonicalId): Promise<DeliveryOutcome> {
  const event = await d.ctx.ids.nativeFor(target, MATRIX, "event");
  if (event?.scope === roomId && (await d.ctx.state.get(`joined:${roomId}|${puppet}`)) !== undefined) {
    await d.hs.request(puppet, Method.Post, `/rooms/${enc(roomId)}/receipt/m.read/${enc(event.id)}`, {});
  }
  return { state: "relayed", nativeIds: [] };
}

/** Show one room activity in a linked Matrix room, as the acting member's puppet. */
export async function deliverRoomActivity(d: MatrixDeps, delivery: RoomDelivery): Promise<DeliveryOutcome> {
  const { activity, target } = delivery;
  const actor = activityActor(activity);
  const puppet = nativeOrFail(d, actor);
  try {
    const roomId = await roomIdOf(d, target.id);
    await ensureJoined(d, roomId, d.bot);
    if (activity.type === "membership") {
      const m = activity.membership;
      const member = nativeOrFail(d, m.member);
      if (m.change === "join" || m.change === "rename") {
        await d.puppets.ensure(member, cleanRoomText(m.displayName ?? m.member.address, MAX_ROOM_NAME_CHARS) || m.member.address);
        await ensureJoined(d, roomId, member);
      } else {
        await leave(d, roomId, member);
      }
      return { state: "relayed", nativeIds: [] };
    }
    if (activity.type === "displayed") return await readReceipt(d, puppet, roomId, activity.displayed.target);
    await d.puppets.ensure(puppet, actor.address);
    await ensureJoined(d, roomId, puppet);
    if (activity.type === "subject") {
      const { event_id: eventId } = await d.hs.request<{ event_id: string }>(puppet, Method.Put, `/rooms/${enc(roomId)}/state/m.room.topic/`, { topic: activity.subject.subject });
      return { state: "relayed", nativeIds: [{ network: MATRIX, kind: "event", id: eventId, scope: roomId }] };
    }
    const sent = await d.ctx.ids.nativeFor(activity.message.id, MATRIX, "event");
    if (sent) return { state: "relayed", nativeIds: [sent] };
    const feature = await deliverRoomInteraction(d, activity.message, puppet, roomId);
    if (feature !== undefined) return feature;
    const message = { ...activity.message, to: actor };
    // Files are uploaded as the puppet and sent as native media events, as in a DM (media/outbound.ts), under the room server's limits.
    const contents = attachmentsOf(message).length > 0 ? await fileContents(d, message, puppet, () => contentFor(d, message), serverOf(roomId)) : [await contentFor(d, message)];
    const send = (content: Record<string, unknown>, suffix: string) => d.hs.request<{ event_id: string }>(puppet, Method.Put, `/rooms/${enc(roomId)}/send/m.room.message/${enc(txnIdFor(activity.message.id, suffix))}`, content);
    const { event_id: eventId } = await send(contents[0]!, "");
    for (const [i, content] of contents.slice(1).entries()) await send(content, `.${i + 1}`);
    const native: NativeId = { network: MATRIX, kind: "event", id: eventId, scope: roomId };
    return { state: "relayed", nativeIds: [native] };
  } catch (e) {
    if (e instanceof DeliveryError) throw e;
    throw classify(e, "posting in the linked room");
  }
}

/** Join the bot to every linked Matrix room so the homeserver sends Parley its events (best effort). */
export async function joinLinkedRooms(d: MatrixDeps): Promise<void> {
  for (const room of d.ctx.mappings().rooms?.all() ?? []) {
    const native = room.natives.get(MATRIX);
    if (!native) continue;
    try {
      await ensureJoined(d, await roomIdOf(d, native.id), d.bot);
    } catch (e) {
      d.log.warn({ room: native.id, err: errorMessage(e) }, "the bridge bot could not join a linked room");
    }
  }
}

/** A member's typing in a linked Matrix room (issue 18 in rooms, best effort). */
export async function typingInLinkedRoom(d: MatrixDeps, n: RoomTypingNotice): Promise<void> {
  await deliverRoomTyping(d, n, await roomIdOf(d, n.room.id));
}
