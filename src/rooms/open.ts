/**
 * Open rooms in the core (issue 12, docs/rooms.md "Open rooms"): a user on one network reaches a
 * room of another with no admin step — a Matrix user joins `#<prefix>xmpp_<room JID>` and Parley
 * opens a portal room bridged to the MUC. The opening network's adapter asks {@link OpenRooms.check}
 * (the mappings' open-federation policy, then the home network's adapter: does the room exist, would
 * it take Parley?), creates its portal, and calls {@link OpenRooms.open}, which stores the room in
 * Redis and has the home adapter start listening. From then on the room is found like a linked one.
 */
import type { NetworkAddressing } from "../adapter/contract.js";
import { roomAdapterOf, roomAddressingOf } from "../adapter/rooms.js";
import type { OpenRoomPort } from "../adapter/open-rooms.js";
import type { Endpoint, NetworkId } from "../model/address.js";
import type { NativeRoom, Room } from "../model/room.js";
import type { DomainMappings } from "../mappings/types.js";
import { ParleyError } from "../errors/parley-error.js";
import { errorMessage } from "../errors/message.js";
import type { OpenRoomStore } from "../store/open-rooms.js";
import type { AdapterLookup, RouteFn } from "../core/ports.js";
import type { Logger } from "../log/logger.js";
import type { RoomLookup } from "./service.js";
import type { RoomMetrics } from "./metrics.js";

export interface OpenRoomsDeps {
  readonly store: OpenRoomStore;
  readonly mappings: () => DomainMappings;
  readonly route: RouteFn;
  readonly adapters: AdapterLookup;
  readonly addressing: (network: NetworkId) => NetworkAddressing | undefined;
  readonly log: Logger;
  readonly metrics: RoomMetrics;
}

export function openRoomKey(home: NativeRoom): string {
  return `open:${home.network}:${home.id}`;
}

/** Linked rooms of the mappings first, then open rooms. */
export function linkedAndOpenRooms(mappings: () => DomainMappings, store: OpenRoomStore): RoomLookup {
  return { find: async (network, id) => mappings().rooms?.find(network, id) ?? store.find(network, id) };
}

export class OpenRooms implements OpenRoomPort {
  constructor(private readonly d: OpenRoomsDeps) {}

  find(native: NativeRoom): Promise<Room | undefined> {
    return this.d.store.find(native.network, native.id);
  }

  list(network: NetworkId): Promise<readonly Room[]> {
    return this.d.store.list(network);
  }

  /** The normalised id and canonical address of a native room; PARLEY_ADDRESS_INVALID when it is no room of that network. */
  private normalise(home: NativeRoom): { id: string; address: Room["address"] } {
    const addressing = this.d.addressing(home.network);
    const rooms = addressing ? roomAddressingOf(addressing) : undefined;
    if (!rooms) throw new ParleyError("PARLEY_ADDRESS_UNKNOWN", `the ${home.network} network has no rooms Parley can open`);
    try {
      const id = rooms.parseRoom(home.id);
      return { id, address: rooms.roomAddress(id, this.d.mappings().networks.get(home.network)?.settings) };
    } catch (e) {
      throw new ParleyError("PARLEY_ADDRESS_INVALID", errorMessage(e));
    }
  }

  private adapterFor(network: NetworkId) {
    const adapter = this.d.adapters(network);
    const rooms = adapter ? roomAdapterOf(adapter) : undefined;
    if (!rooms?.checkOpenRoom || !rooms.listenToRoom) throw new ParleyError("PARLEY_ADDRESS_UNKNOWN", `no ${network} adapter in this process opens rooms`);
    return rooms;
  }

  async check(home: NativeRoom, opener: Endpoint): Promise<NativeRoom> {
    try {
      const { id, address } = this.normalise(home);
      if (this.d.mappings().rooms?.find(home.network, id)) throw new ParleyError("PARLEY_REFUSED", `${id} is linked by the admin: join the linked room instead`);
      const routed = this.d.route(this.d.mappings(), opener, { address, network: home.network }, "message");
      if (!routed.ok) throw routed.error;
      await this.adapterFor(home.network).checkOpenRoom!(id);
      return { network: home.network, id };
    } catch (e) {
      this.count(home.network, e);
      throw e;
    }
  }

  async open(home: NativeRoom, portal: NativeRoom): Promise<Room> {
    const { id, address } = this.normalise(home);
    const native = { network: home.network, id };
    const room: Room = { key: openRoomKey(native), origin: "open", address, home: home.network, natives: new Map([[home.network, native], [portal.network, portal]]) };
    const adapter = this.adapterFor(home.network);
    await this.d.store.save(room);
    try {
      await adapter.listenToRoom!(id);
    } catch (e) {
      await this.d.store.remove(room).catch(() => undefined);
      this.count(home.network, e);
      throw e;
    }
    this.d.metrics.opened.inc({ network: home.network, outcome: "opened" });
    this.d.log.info({ room: room.key, portal: `${portal.network}:${portal.id}` }, "open room bridged");
    return room;
  }

  private count(network: NetworkId, e: unknown): void {
    const outcome = e instanceof ParleyError ? e.code : "error";
    this.d.metrics.opened.inc({ network, outcome });
  }
}
