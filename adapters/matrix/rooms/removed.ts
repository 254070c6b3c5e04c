/**
 * Puppets a Matrix room removed (issue 12: "power-level changes and kicks of puppets are
 * respected"). When a room member kicks or bans one of Parley's users from a linked room or an
 * open room's portal, Parley remembers it (`removed:<room id>|<user>` in Redis) and never joins
 * that user to the room again on its own: the next activity of the member behind the puppet
 * fails for good with who removed it and why, and the member is told in their own protocol (the
 * room delivery's failure report). A room member lifts it by inviting the puppet again, or by
 * unbanning it. A puppet whose power level is below what the room asks to post (`events_default`,
 * or the event type's level) gets the homeserver's M_FORBIDDEN: that too fails for good and the
 * sender is told; nothing is retried in vain.
 *
 * Each removal also marks the room unhealthy in this process (RemovedRooms, removed-rooms.ts: the adapter's
 * `health()` rooms, `/readyz` detail, `parley_room_links_unhealthy`), learnt from the membership
 * event or from a delivery that met the remembered removal; an invite, an unban or a successful
 * join clears it.
 */
import { DeliveryError } from "../../../src/adapter/contract.js";
import { cleanRoomText } from "../../../src/model/room-events.js";
import type { MatrixDeps } from "../deps.js";
import type { MatrixEvent } from "../types.js";
import { isObj } from "../untrusted.js";
export { RemovedRooms } from "./removed-rooms.js";


function markRemoved(d: MatrixDeps, roomId: string, user: string, how: "banned" | "kicked", detail: string): void {
  if (d.removedRooms?.mark(roomId, user, { room: roomId, reason: how, detail: `${user === d.bot ? "the bridge bot was" : `the puppet ${user} was`} ${detail}` })) d.ctx.roomLinkFailed?.(how);
}

export const removedKey = (roomId: string, user: string): string => `removed:${roomId}|${user}`;

/** A membership event about one of Parley's own users, sent by someone else: remember a kick or ban, forget it on an invite or unban. */
export async function ownUserMembership(d: MatrixDeps, ev: MatrixEvent): Promise<void> {
  const user = ev.state_key;
  if (typeof user !== "string" || ev.sender === user) return;
  const now = ev.content.membership;
  const before = isObj(ev.unsigned) && isObj(ev.unsigned.prev_content) ? ev.unsigned.prev_content.membership : undefined;
  if (now === "ban" || (now === "leave" && before !== "ban" && before !== "invite")) {
    const reason = typeof ev.content.reason === "string" ? cleanRoomText(ev.content.reason, 256) : "";
    const how = now === "ban" ? "banned" : "kicked";
    const why = `${how} from the Matrix room ${ev.room_id} by ${ev.sender}${reason ? `: ${reason}` : ""}`;
    await d.ctx.state.set(removedKey(ev.room_id, user), why);
    markRemoved(d, ev.room_id, user, how, why);
    await d.ctx.state.delete(`joined:${ev.room_id}|${user}`);
    d.log.info({ room: ev.room_id, user, by: ev.sender, how }, "a room member removed one of Parley's users: not joined again until invited");
  } else if (now === "invite" || (now === "leave" && before === "ban")) {
    await d.ctx.state.delete(removedKey(ev.room_id, user));
    d.removedRooms?.clear(ev.room_id, user);
  }
}

/** Throws the permanent failure the member is told when the room removed their puppet. */
export async function refuseIfRemoved(d: MatrixDeps, roomId: string, user: string): Promise<void> {
  const why = await d.ctx.state.get(removedKey(roomId, user));
  if (why !== undefined) markRemoved(d, roomId, user, why.startsWith("banned") ? "banned" : "kicked", why);
  if (why !== undefined) throw new DeliveryError("permanent", "refused-by-policy", `${user === d.bot ? "the bridge bot was" : "your puppet was"} ${why}; a room member must invite it again`);
}
