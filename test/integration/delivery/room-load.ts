/**
 * Room traffic for the multi-process order tests (issue 12): linked rooms bridged over three
 * networks, members posting in turn, each message turned into delivery jobs by the real
 * `roomJobs` (one per other native room, ordered per room). The payload is replaced by what the
 * worker process records (test/support/delivery-worker-process.ts): `conv` is the line that must
 * stay in order — the room as one native room receives it, `<room key>><target network>` — and
 * `i` the message's place in it.
 */
import type { DeliveryJobSpec } from "../../../src/delivery/types.js";
import { asNetworkId, canonicalAddress, endpoint, type NetworkId } from "../../../src/model/address.js";
import { newCanonicalId } from "../../../src/model/ids.js";
import { RoomActivitySchema } from "../../../src/model/room-events.js";
import { linkedRoomKey, type Room } from "../../../src/model/room.js";
import { roomJobs } from "../../../src/rooms/jobs.js";
import type { TestPayload } from "../../support/delivery-worker-process.js";

export const ROOM_NETS: readonly NetworkId[] = ["xmpp", "matrix", "email"].map(asNetworkId);

export class RoomLoad {
  readonly rooms: readonly Room[];
  /** Per line (`<room key>><target network>`), how many messages were sent to it. */
  readonly sent = new Map<string, number>();
  private n = 0;

  constructor(rooms: number, private readonly membersPerNetwork: number) {
    this.rooms = Array.from({ length: rooms }, (_, r) => ({
      key: linkedRoomKey(`r${r}`), origin: "linked" as const, home: ROOM_NETS[0]!,
      address: canonicalAddress(`r${r}@conference.xmpp.example`),
      natives: new Map(ROOM_NETS.map((net) => [net, { network: net, id: `r${r}@${net}.example` }])),
    }));
  }

  /** The jobs of the next message: rooms in turn, and in each room its members in turn over the networks. */
  next(): DeliveryJobSpec[] {
    const k = this.n++;
    const room = this.rooms[k % this.rooms.length]!;
    const m = Math.floor(k / this.rooms.length) % (this.membersPerNetwork * ROOM_NETS.length);
    const net = ROOM_NETS[m % ROOM_NETS.length]!;
    const from = endpoint(`m${Math.floor(m / ROOM_NETS.length)}@${net}.example`, net);
    const activity = RoomActivitySchema.parse({ type: "message", message: {
      id: newCanonicalId(), from, authenticatedBy: { method: "network" }, sentAt: new Date().toISOString(), parts: [{ role: "text", body: `message ${k}` }],
    } });
    return roomJobs(room, net, activity).map((spec) => {
      const conv = `${room.key}>${spec.network}`;
      const i = this.sent.get(conv) ?? 0;
      this.sent.set(conv, i + 1);
      const payload: TestPayload = { i, conv, t0: Date.now() };
      return { ...spec, payload };
    });
  }

  /** Every job sent so far. */
  get jobs(): number { return [...this.sent.values()].reduce((a, b) => a + b, 0); }
  get messages(): number { return this.n; }
}
