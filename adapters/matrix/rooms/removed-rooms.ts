/** What rooms/removed.ts marks: the bridged Matrix rooms that removed the bot or a puppet (the adapter's health). */
import type { RoomLinkProblem } from "../../../src/adapter/contract.js";

/** Bridged Matrix rooms that removed the bot or a puppet, as this process has seen (for health). */
export class RemovedRooms {
  /** room id → user → the problem. */
  private readonly rooms = new Map<string, Map<string, RoomLinkProblem>>();

  /** Marks `roomId`; true when it is new (counted once). */
  mark(roomId: string, user: string, problem: RoomLinkProblem): boolean {
    let users = this.rooms.get(roomId);
    if (!users) this.rooms.set(roomId, (users = new Map<string, RoomLinkProblem>()));
    const fresh = !users.has(user);
    users.set(user, problem);
    return fresh;
  }

  clear(roomId: string, user: string): void {
    const users = this.rooms.get(roomId);
    if (!users?.delete(user)) return;
    if (users.size === 0) this.rooms.delete(roomId);
  }

  /** One entry per room: the bot's problem first (no member's message gets through then), else a puppet's. */
  unhealthy(bot: string): RoomLinkProblem[] {
    return [...this.rooms.values()].map((users) => users.get(bot) ?? [...users.values()][0]!);
  }
}
