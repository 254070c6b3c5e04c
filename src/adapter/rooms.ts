/**
 * Rooms, an optional adapter capability (issue 12). An adapter that bridges rooms implements
 * {@link RoomAdapter} beside the {@link Adapter} contract; its factory's addressing may offer
 * {@link RoomAddressing} so the mappings can validate linked rooms. The core discovers both with
 * {@link roomAdapterOf} and {@link roomAddressingOf}; an adapter without them takes no room jobs.
 */
import type { CanonicalAddress } from "../model/address.js";
import type { RoomDelivery } from "../model/room-events.js";
import type { Adapter, DeliveryOutcome, NetworkAddressing } from "./contract.js";

/** How rooms are named on one network. Pure: the same input gives the same answer everywhere. */
export interface RoomAddressing {
  /**
   * Normalise a native room id as an admin writes it in a link (a MUC JID, `#alias:server`,
   * `!id:server` or a room version 12 `!hash`, a list address). Throws an Error whose message says what is wrong.
   */
  parseRoom(native: string): string;
  /**
   * The canonical `room@domain` address of a normalised native room id on this network. `settings`
   * are the network's own `networks.<id>` settings, for an id that names no domain (a Matrix room
   * version 12 id is addressed under the homeserver's `serverName`).
   */
  roomAddress(native: string, settings?: Readonly<Record<string, unknown>>): CanonicalAddress;
}

export interface RoomAdapter {
  /**
   * Show one room activity (a member's message, a membership change, a subject) in the native
   * room `delivery.target`, as the acting member's own puppet. Called once per native room, in
   * the room's order. Throws DeliveryError; `relayed` when the room took it.
   */
  deliverRoom(delivery: RoomDelivery): Promise<DeliveryOutcome>;
  /**
   * True when Parley itself serves the native room `native` to its members (a mailing list, a room
   * of Parley's own XEP-0045 service): an activity from such a room is also delivered back to it,
   * for its other members (and, in a MUC, as the sender's reflection). Rooms a server keeps (a MUC
   * on Prosody, a Matrix room) show a member's activity to the others themselves: false or absent.
   */
  hostsRoom?(native: string): boolean;
  /**
   * Open rooms (docs/rooms.md): does the native room `native` (normalised) exist, and would it take
   * Parley's occupants? Resolves when so; throws ParleyError PARLEY_ADDRESS_UNKNOWN (no such room)
   * or PARLEY_REFUSED (members-only, password, …) with the room's reason. Asks, joins nothing.
   */
  checkOpenRoom?(native: string): Promise<void>;
  /** Start bridging the native room `native` that was just opened (e.g. join it to hear its traffic). */
  listenToRoom?(native: string): Promise<void>;
}

export function roomAdapterOf(adapter: Adapter): (Adapter & RoomAdapter) | undefined {
  return typeof (adapter as Partial<RoomAdapter>).deliverRoom === "function" ? (adapter as Adapter & RoomAdapter) : undefined;
}

/** Addressing with room support, for factories whose addressing carries `rooms`. */
export interface NetworkAddressingWithRooms extends NetworkAddressing {
  readonly rooms: RoomAddressing;
}

export function roomAddressingOf(addressing: NetworkAddressing): RoomAddressing | undefined {
  const rooms = (addressing as Partial<NetworkAddressingWithRooms>).rooms;
  return rooms !== undefined && typeof rooms.parseRoom === "function" ? rooms : undefined;
}
