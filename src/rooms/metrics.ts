/** Prometheus metrics of rooms (issue 12): what an operator watches (docs/rooms.md). */
import { Counter, type Registry } from "prom-client";

export interface RoomMetrics {
  readonly accepted: Counter<"source" | "type">;
  readonly delivered: Counter<"network" | "type">;
  /** Open rooms (issue 12): opened, or why not (a ParleyError code). */
  readonly opened: Counter<"network" | "outcome">;
  /** Bridged rooms that refused or removed Parley (join refused, kick, ban, room destroyed), by reason (RoomLinkFailure). */
  readonly linkFailures: Counter<"network" | "reason">;
}

export function createRoomMetrics(registry: Registry): RoomMetrics {
  const registers = [registry];
  return {
    accepted: new Counter({ name: "parley_room_activities_accepted_total", help: "Room activities (messages, membership, subjects) accepted, by source network and type", labelNames: ["source", "type"], registers }),
    delivered: new Counter({ name: "parley_room_deliveries_total", help: "Room activities shown in a native room, by target network and type (one per bridged native room, never per member)", labelNames: ["network", "type"], registers }),
    opened: new Counter({ name: "parley_open_rooms_total", help: "Open rooms asked for with no admin step, by the room's network and outcome (opened, or the refusal's code)", labelNames: ["network", "outcome"], registers }),
    linkFailures: new Counter({ name: "parley_room_link_failures_total", help: "Times a bridged room refused or removed Parley (join refused, kicked, banned, destroyed), by network and reason", labelNames: ["network", "reason"], registers }),
  };
}
