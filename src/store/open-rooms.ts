/**
 * Open rooms in Redis (issue 12, docs/rooms.md "Open rooms"): rooms a user opened with no admin
 * step, so a restart (or another process) finds them again. One hash, `<prefix>:rooms:open`
 * (one Redis Cluster slot), with one field per native form, `<network>|<native id>`, each holding
 * the whole room as JSON: any native form finds its room with one HGET.
 */
import { z } from "zod";
import type { NetworkId } from "../model/address.js";
import { CanonicalAddressSchema, NetworkIdSchema } from "../model/address.js";
import { NativeRoomSchema, type Room } from "../model/room.js";
import type { Keyspace } from "./keys.js";
import { unavailable, type RedisClient } from "./redis.js";

const StoredRoomSchema = z.object({
  key: z.string().min(1),
  address: CanonicalAddressSchema,
  home: NetworkIdSchema,
  natives: z.array(NativeRoomSchema).min(1),
});

/** Where open rooms are kept; in memory for tests, in Redis otherwise. */
export interface OpenRoomStore {
  find(network: NetworkId, nativeId: string): Promise<Room | undefined>;
  /** Every open room with a native form on `network`. */
  list(network: NetworkId): Promise<readonly Room[]>;
  save(room: Room): Promise<void>;
  remove(room: Room): Promise<void>;
}

const field = (network: string, id: string) => `${network}|${id}`;

export function encodeRoom(room: Room): string {
  return JSON.stringify({ key: room.key, address: room.address, home: room.home, natives: [...room.natives.values()] });
}

export function decodeRoom(text: string): Room | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = StoredRoomSchema.safeParse(raw);
  if (!parsed.success) return undefined;
  const { key, address, home, natives } = parsed.data;
  return { key, origin: "open", address, home, natives: new Map(natives.map((n) => [n.network, n])) };
}

export class RedisOpenRooms implements OpenRoomStore {
  private readonly hash: string;

  constructor(private readonly redis: RedisClient, keys: Keyspace) {
    this.hash = keys.key(keys.group("rooms"), "open");
  }

  async find(network: NetworkId, nativeId: string): Promise<Room | undefined> {
    let text: string | null;
    try {
      text = await this.redis.hget(this.hash, field(network, nativeId));
    } catch (e) { throw unavailable(e, "an open-room read"); }
    return text === null ? undefined : decodeRoom(text);
  }

  async list(network: NetworkId): Promise<readonly Room[]> {
    let all: Record<string, string>;
    try {
      all = await this.redis.hgetall(this.hash);
    } catch (e) { throw unavailable(e, "an open-room read"); }
    return Object.entries(all).filter(([f]) => f.startsWith(`${network}|`)).flatMap(([, v]) => decodeRoom(v) ?? []);
  }

  async save(room: Room): Promise<void> {
    const text = encodeRoom(room);
    const fields = [...room.natives.values()].flatMap((n) => [field(n.network, n.id), text]);
    try {
      await this.redis.hset(this.hash, ...fields);
    } catch (e) { throw unavailable(e, "an open-room write"); }
  }

  async remove(room: Room): Promise<void> {
    try {
      await this.redis.hdel(this.hash, ...[...room.natives.values()].map((n) => field(n.network, n.id)));
    } catch (e) { throw unavailable(e, "an open-room write"); }
  }
}

/** The same store in memory (unit tests, tools). */
export class MemoryOpenRooms implements OpenRoomStore {
  private readonly rooms = new Map<string, Room>();
  async find(network: NetworkId, nativeId: string): Promise<Room | undefined> { return this.rooms.get(field(network, nativeId)); }
  async list(network: NetworkId): Promise<readonly Room[]> { return [...this.rooms].filter(([f]) => f.startsWith(`${network}|`)).map(([, r]) => r); }
  async save(room: Room): Promise<void> { for (const n of room.natives.values()) this.rooms.set(field(n.network, n.id), room); }
  async remove(room: Room): Promise<void> { for (const n of room.natives.values()) this.rooms.delete(field(n.network, n.id)); }
}
