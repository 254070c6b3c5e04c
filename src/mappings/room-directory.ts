/**
 * Linked rooms as the core sees them once loaded (issue 12): every canonical room an admin named
 * in the mappings' `rooms:` section, found by its link name or by any of its native forms.
 */
import type { NetworkId } from "../model/address.js";
import type { NativeRoom, Room } from "../model/room.js";

export interface LinkedRoom extends Room {
  readonly origin: "linked";
  /** The link's name as the admin wrote it under `rooms:`. */
  readonly name: string;
  /** Where in the mappings file the link is (a SourceRef). */
  readonly source: { readonly file: string; readonly line: number };
}

export function nativeRoomKey(n: Pick<NativeRoom, "network" | "id">): string {
  return `${n.network}|${n.id}`;
}

export class RoomDirectory {
  private readonly byName = new Map<string, LinkedRoom>();
  private readonly byNative = new Map<string, LinkedRoom>();

  constructor(rooms: Iterable<LinkedRoom> = []) {
    for (const r of rooms) this.add(r);
  }

  /** Add a link; returns the link that already holds one of its native rooms, if any (then nothing is added). */
  add(room: LinkedRoom): LinkedRoom | undefined {
    for (const n of room.natives.values()) {
      const earlier = this.byNative.get(nativeRoomKey(n));
      if (earlier) return earlier;
    }
    this.byName.set(room.name, room);
    for (const n of room.natives.values()) this.byNative.set(nativeRoomKey(n), room);
    return undefined;
  }

  byLinkName(name: string): LinkedRoom | undefined {
    return this.byName.get(name);
  }

  /** The linked room a native room belongs to. */
  find(network: NetworkId, id: string): LinkedRoom | undefined {
    return this.byNative.get(nativeRoomKey({ network, id }));
  }

  all(): readonly LinkedRoom[] {
    return [...this.byName.values()];
  }

  get size(): number {
    return this.byName.size;
  }
}
