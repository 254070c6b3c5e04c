/** Prometheus metrics of rooms (issue 12): what an operator watches (docs/rooms.md). */
import { Counter, type Registry } from "prom-client";

export interface RoomMetrics {
  readonly accepted: Counter<"source" | "type">;
  readonly delivered: Counter<"network" | "type">;
}

export function createRoomMetrics(registry: Registry): RoomMetrics {
  const registers = [registry];
  return {
    accepted: new Counter({ name: "parley_room_activities_accepted_total", help: "Room activities (messages, membership, subjects) accepted, by source network and type", labelNames: ["source", "type"], registers }),
    delivered: new Counter({ name: "parley_room_deliveries_total", help: "Room activities shown in a native room, by target network and type (one per bridged native room, never per member)", labelNames: ["network", "type"], registers }),
  };
}
