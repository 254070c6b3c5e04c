/**
 * Occupants of the rooms of Parley's own XEP-0045 service (issue 12, open rooms from XMPP), kept in
 * Redis so a restart, or the process that takes the component link over, knows who is in a room.
 * One map (one Redis hash, so one cluster slot) per room, `svc:<room JID>`, with fields:
 *
 * - `l|<full JID>` → nick: an XMPP user's session in the room (a local occupant);
 * - `r|<endpoint key>` → JSON {@link RemoteOccupant}: a member of the room's home network (a Matrix
 *   member), shown to the local occupants as `<room>/<nick>`;
 * - `n|<nick>` → the `l|…` or `r|…` field that holds the nick (one nick, one occupant);
 * - `subject` → JSON {@link ServiceSubject}: the room's subject, as last bridged.
 */
import { mapEntries, type AdapterStateStore } from "../../../src/adapter/state.js";
import { endpointKey, type Endpoint } from "../../../src/model/address.js";

export interface RemoteOccupant {
  readonly nick: string;
  readonly member: Endpoint;
}

export interface ServiceSubject {
  readonly text: string;
  readonly nick?: string;
}

export interface ServiceOccupants {
  /** Local occupants: full JID → nick. */
  readonly local: ReadonlyMap<string, string>;
  /** Remote members: endpoint key → occupant. */
  readonly remote: ReadonlyMap<string, RemoteOccupant>;
}

const mapOf = (room: string) => `svc:${room}`;
const remoteField = (member: Endpoint) => `r|${endpointKey(member)}`;

export class ServiceRoomState {
  constructor(private readonly state: AdapterStateStore) {}

  /** Everyone in the room (one scan of its map). */
  async occupants(room: string): Promise<ServiceOccupants> {
    const local = new Map<string, string>();
    const remote = new Map<string, RemoteOccupant>();
    for await (const [field, value] of mapEntries(this.state, mapOf(room))) {
      if (field.startsWith("l|")) local.set(field.slice(2), value);
      else if (field.startsWith("r|")) {
        try {
          remote.set(field.slice(2), JSON.parse(value) as RemoteOccupant);
        } catch {
          // a damaged entry is skipped; the member shows again on their next activity
        }
      }
    }
    return { local, remote };
  }

  /** The nick of a local occupant's session, if it is in the room. */
  localNick(room: string, fullJid: string): Promise<string | undefined> {
    return this.state.mapGet(mapOf(room), `l|${fullJid}`);
  }

  /** Who holds `nick` (`l|<jid>` or `r|<endpoint>`), if anyone. */
  holderOf(room: string, nick: string): Promise<string | undefined> {
    return this.state.mapGet(mapOf(room), `n|${nick}`);
  }

  async addLocal(room: string, fullJid: string, nick: string): Promise<void> {
    await this.state.mapSet(mapOf(room), `n|${nick}`, `l|${fullJid}`);
    await this.state.mapSet(mapOf(room), `l|${fullJid}`, nick);
  }

  async removeLocal(room: string, fullJid: string, nick: string): Promise<void> {
    await this.state.mapDelete(mapOf(room), `l|${fullJid}`);
    if ((await this.holderOf(room, nick)) === `l|${fullJid}`) await this.state.mapDelete(mapOf(room), `n|${nick}`);
  }

  async remote(room: string, member: Endpoint): Promise<RemoteOccupant | undefined> {
    const text = await this.state.mapGet(mapOf(room), remoteField(member));
    if (text === undefined) return undefined;
    try {
      return JSON.parse(text) as RemoteOccupant;
    } catch {
      return undefined;
    }
  }

  /**
   * A remote member takes a nick: `wanted` when free, else `wanted [network]`, else that with a
   * number (2, 3, …). Returns the nick given.
   */
  async addRemote(room: string, member: Endpoint, wanted: string, maxChars: number): Promise<string> {
    const field = remoteField(member);
    const known = await this.remote(room, member);
    if (known !== undefined && known.nick !== wanted && (await this.holderOf(room, known.nick)) === field) await this.state.mapDelete(mapOf(room), `n|${known.nick}`);
    const cut = (s: string) => [...s].slice(0, maxChars).join("");
    const candidates = [cut(wanted), cut(`${wanted} [${member.network}]`), ...Array.from({ length: 20 }, (_, i) => cut(`${wanted} [${member.network} ${i + 2}]`))];
    for (const nick of candidates) {
      const holder = await this.holderOf(room, nick);
      if (holder !== undefined && holder !== field) continue;
      await this.state.mapSet(mapOf(room), `n|${nick}`, field);
      await this.state.mapSet(mapOf(room), field, JSON.stringify({ nick, member } satisfies RemoteOccupant));
      return nick;
    }
    throw new Error(`no free nick for ${endpointKey(member)} in ${room}`);
  }

  async removeRemote(room: string, member: Endpoint): Promise<RemoteOccupant | undefined> {
    const known = await this.remote(room, member);
    if (!known) return undefined;
    await this.state.mapDelete(mapOf(room), remoteField(member));
    if ((await this.holderOf(room, known.nick)) === remoteField(member)) await this.state.mapDelete(mapOf(room), `n|${known.nick}`);
    return known;
  }

  async subject(room: string): Promise<ServiceSubject | undefined> {
    const text = await this.state.mapGet(mapOf(room), "subject");
    if (text === undefined) return undefined;
    try {
      return JSON.parse(text) as ServiceSubject;
    } catch {
      return undefined;
    }
  }

  async setSubject(room: string, subject: ServiceSubject): Promise<void> {
    await this.state.mapSet(mapOf(room), "subject", JSON.stringify(subject));
  }
}
