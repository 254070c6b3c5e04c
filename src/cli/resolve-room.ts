/**
 * `parley resolve <link>` and `parley resolve <room> --on <network>`: show a linked room's forms
 * on every network (issue 12, docs/mappings.md "Linked rooms").
 */
import { roomAddressingOf } from "../adapter/rooms.js";
import type { KnownNetwork } from "../mappings/load.js";
import type { LinkedRoom } from "../mappings/room-directory.js";
import type { DomainMappings } from "../mappings/types.js";
import { EXIT_OK, type CommandOutput } from "./config-check.js";

/** The linked room an admin names: a link name, or a native room form on `on`. */
export function findLinkedRoom(input: string, mappings: DomainMappings, networks: readonly KnownNetwork[], on: string | undefined): LinkedRoom | undefined {
  const rooms = mappings.rooms;
  if (!rooms) return undefined;
  if (on === undefined) return input.includes("@") ? undefined : rooms.byLinkName(input);
  const known = networks.find((n) => n.id === on);
  const addressing = known && roomAddressingOf(known.addressing);
  if (!known || !addressing) return undefined;
  try {
    return rooms.find(known.id, addressing.parseRoom(input));
  } catch {
    return undefined;
  }
}

export function describeRoom(room: LinkedRoom): CommandOutput {
  const width = Math.max(...[...room.natives.keys()].map((n) => n.length));
  return {
    exitCode: EXIT_OK,
    lines: [
      `${room.address}   (linked room "${room.name}", ${room.source.file}:${room.source.line})`,
      `  home        ${room.home}`,
      "  bridged as",
      ...[...room.natives.values()].map((n) => `    ${n.network.padEnd(width)}  ${n.id}${n.network === room.home ? "   (home)" : ""}`),
      `  delivery    one copy per bridged room (${room.natives.size - 1} per message), in the room's order`,
    ],
  };
}
