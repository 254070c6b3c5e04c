/** How room activity becomes delivery jobs: one per other native room, ordered per room (issue 12). */
import type { DeliveryJobSpec } from "../delivery/types.js";
import type { NetworkId } from "../model/address.js";
import { activityId, type RoomActivity } from "../model/room-events.js";
import { otherNatives, roomRef, type NativeRoom, type Room } from "../model/room.js";

/**
 * The conversation that orders a room's deliveries is the room itself (DESIGN §3: "for a group,
 * the room"), never the (sender, recipient) pair: every member's activity keeps its place.
 */
export function roomConversation(room: Pick<Room, "key">): string {
  return `room>${room.key}`;
}

/**
 * One job per native room other than the one the activity came from; none per member. With
 * `backToSource`, the source's native room gets one too (a room Parley serves itself: a list).
 * `fit` gives the activity as one native room can show it, or undefined for no job there.
 */
export function roomJobs(room: Room, from: NetworkId, activity: RoomActivity, backToSource = false, fit: (target: NativeRoom, a: RoomActivity) => RoomActivity | undefined = (_t, a) => a): DeliveryJobSpec[] {
  const id = activityId(activity);
  const source = backToSource ? room.natives.get(from) : undefined;
  return [...otherNatives(room, from), ...(source ? [source] : [])].flatMap((target) => {
    const shown = fit(target, activity);
    return shown === undefined ? [] : [{
      kind: "room" as const,
      network: target.network,
      conversation: roomConversation(room),
      key: `r.${id}.${target.network}`,
      payload: { room: roomRef(room), target, activity: shown },
    }];
  });
}
