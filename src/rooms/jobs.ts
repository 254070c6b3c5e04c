/** How room activity becomes delivery jobs: one per other native room, ordered per room (issue 12). */
import type { DeliveryJobSpec } from "../delivery/types.js";
import type { NetworkId } from "../model/address.js";
import { activityId, type RoomActivity } from "../model/room-events.js";
import { otherNatives, roomRef, type Room } from "../model/room.js";

/**
 * The conversation that orders a room's deliveries is the room itself (DESIGN §3: "for a group,
 * the room"), never the (sender, recipient) pair: every member's activity keeps its place.
 */
export function roomConversation(room: Pick<Room, "key">): string {
  return `room>${room.key}`;
}

/** One job per native room other than the one the activity came from; none per member. */
export function roomJobs(room: Room, from: NetworkId, activity: RoomActivity): DeliveryJobSpec[] {
  const id = activityId(activity);
  return otherNatives(room, from).map((target) => ({
    kind: "room",
    network: target.network,
    conversation: roomConversation(room),
    key: `r.${id}.${target.network}`,
    payload: { room: roomRef(room), target, activity },
  }));
}
