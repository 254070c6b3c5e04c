/**
 * What each native room can show of a room message's everyday features (issue 18 in rooms): a
 * reaction or a retraction goes only to a network that declares it (`AdapterCapabilities.chat`),
 * else that room's job is not made and a log line says so; a reply to a network without replies
 * goes as a plain message; a member's read marker only to a network declaring `roomReadMarkers`.
 * The same rule as one-to-one messages (src/core/features.ts).
 */
import type { AdapterCapabilities } from "../adapter/contract.js";
import { chatFeaturesOf } from "../adapter/features.js";
import { interactionOf } from "../model/interactions.js";
import type { RoomActivity } from "../model/room-events.js";
import type { NativeRoom, Room } from "../model/room.js";
import type { Logger } from "../log/logger.js";

/** The activity as `target` may show it, or undefined when it cannot show it at all. */
export function fitRoomActivity(room: Pick<Room, "key">, target: NativeRoom, activity: RoomActivity, caps: AdapterCapabilities | undefined, log: Logger): RoomActivity | undefined {
  if (caps === undefined) return activity;
  if (activity.type === "displayed") {
    if (chatFeaturesOf(caps).roomReadMarkers === true) return activity;
    log.debug({ event: "feature-dropped", feature: "roomReadMarkers", network: target.network, room: room.key }, `${target.network} cannot show read markers in a room: dropped`);
    return undefined;
  }
  if (activity.type !== "message") return activity;
  const m = activity.message;
  const features = chatFeaturesOf(caps);
  const feature = interactionOf(m);
  if (feature !== undefined && !features[feature]) {
    log.info({ event: "feature-dropped", messageId: m.id, feature, network: target.network, room: room.key, from: m.from.address }, `${target.network} cannot show ${feature} in a room: dropped`);
    return undefined;
  }
  if (m.inReplyTo !== undefined && !features.replies) {
    const { inReplyTo: _dropped, ...plain } = m;
    return { type: "message", message: plain };
  }
  return activity;
}
