/** What the adapter's parts share: built once in start(), passed as one object (STYLE, xmpp.js habit). */
import type { AdapterContext } from "../../src/adapter/contract.js";
import type { Logger } from "../../src/log/logger.js";
import type { MatrixConfig } from "./config.js";
import type { Homeserver } from "./homeserver.js";
import type { Puppets } from "./puppets.js";
import type { PuppetProfiles } from "./puppet-profile.js";
import type { Rooms } from "./rooms.js";
import type { RemovedRooms } from "./rooms/removed-rooms.js";

export interface MatrixDeps {
  readonly ctx: AdapterContext;
  readonly config: MatrixConfig;
  readonly hs: Homeserver;
  readonly puppets: Puppets;
  /** Puppets' names and avatars from their persons' own profiles. */
  readonly profiles: PuppetProfiles;
  readonly rooms: Rooms;
  readonly log: Logger;
  /** The bridge bot's user id. */
  readonly bot: string;
  /** Bridged rooms that removed the bot or a puppet (health); absent in some tests. */
  readonly removedRooms?: RemovedRooms;
}
