/**
 * The canonical room (issue 12): one conversation that several networks show as their own room —
 * an XMPP MUC room (XEP-0045), a Matrix room, a mailing list. A room has a canonical address
 * `room@domain` on its home network, like a person (DESIGN §1), and one native form per network
 * it is bridged to. Messages in it are ordered per room and delivered once per bridged native
 * room, never once per member.
 */
import { z } from "zod";
import { CanonicalAddressSchema, NetworkIdSchema, type CanonicalAddress, type NetworkId } from "./address.js";

/** A room as one network names it: a MUC room JID, a Matrix room id or alias, a list address. */
export interface NativeRoom {
  readonly network: NetworkId;
  /** The native id as that network's adapter normalised it (e.g. a bare JID in lower case, `!id:server`). */
  readonly id: string;
}

export const NativeRoomSchema = z.object({ network: NetworkIdSchema, id: z.string().min(1).max(1024) });

/** How a room came to be bridged: an admin's named link, or a user joining an open room (no admin step). */
export type RoomOrigin = "linked" | "open";

/** A canonical room: its key, its address on its home network, and every native form it has. */
export interface Room {
  /** Stable key for ordering, job ids and Redis: `link:<name>` or `open:<network>:<native id>`. */
  readonly key: string;
  readonly origin: RoomOrigin;
  /** `room@domain` on the home network. */
  readonly address: CanonicalAddress;
  readonly home: NetworkId;
  /** The native rooms bridged together, at most one per network. */
  readonly natives: ReadonlyMap<NetworkId, NativeRoom>;
}

export const RoomRefSchema = z.object({
  key: z.string().min(1).max(1100),
  address: CanonicalAddressSchema,
  home: NetworkIdSchema,
});
/** What a delivery job carries of its room (the rest is looked up again when the job runs). */
export type RoomRef = z.infer<typeof RoomRefSchema>;

export function roomRef(room: Room): RoomRef {
  return { key: room.key, address: room.address, home: room.home };
}

export function linkedRoomKey(name: string): string {
  return `link:${name}`;
}

/** Native rooms other than the one an event came from: where one room event must go. */
export function otherNatives(room: Room, from: NetworkId): NativeRoom[] {
  return [...room.natives.values()].filter((n) => n.network !== from);
}
