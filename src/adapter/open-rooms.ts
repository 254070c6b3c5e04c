/** The open-room port of the adapter context (issue 12); kept apart from rooms.ts, which imports the contract. */
import type { Endpoint, NetworkId } from "../model/address.js";
import type { NativeRoom, Room } from "../model/room.js";

/**
 * Open rooms through the adapter context (issue 12): a network that offers portals to other
 * networks' rooms (Matrix aliases in Parley's namespace) opens them here, with no admin step, under
 * the mappings' open-federation policy. Open rooms are kept in Redis and survive a restart.
 */
export interface OpenRoomPort {
  /** The open room one of whose native forms is `native`, if any. */
  find(native: NativeRoom): Promise<Room | undefined>;
  /** Every open room with a native form on `network` (an adapter re-listens to them after a restart). */
  list(network: NetworkId): Promise<readonly Room[]>;
  /**
   * May `opener` (any address on the portal's network and server) reach the room `home`, and does
   * the room exist and take Parley? Throws ParleyError (PARLEY_ADDRESS_UNKNOWN, PARLEY_REFUSED,
   * PARLEY_DISABLED, PARLEY_UNAVAILABLE) with the reason; creates nothing. Resolves with the room's
   * normalised native form (the one its portal must be named after).
   */
  check(home: NativeRoom, opener: Endpoint): Promise<NativeRoom>;
  /**
   * Bridge `home` and the portal the caller created, as one open room: stored, then `home`'s adapter
   * starts listening. When listening fails the room is forgotten again and the error thrown.
   */
  open(home: NativeRoom, portal: NativeRoom): Promise<Room>;
}
