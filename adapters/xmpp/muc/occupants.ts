/**
 * Puppets as occupants of MUC rooms (XEP-0045 §7.2): a puppet joins `room/nick` from its own JID
 * on Parley's component and waits for its self-presence (status 110) or the room's refusal. The
 * nick is the member's display name, one line of at most {@link MAX_NICK_CHARS} characters; when
 * the room says the nick is taken (`conflict`, §7.2.9) the puppet tries `nick [network]` once.
 *
 * One listener occupant per room (the component domain's own JID, nick {@link LISTENER_NICK}) is
 * the one copy of the room's traffic Parley bridges; every puppet also gets a copy and drops it.
 */
import { DeliveryError } from "../../../src/adapter/contract.js";
import { cleanRoomText } from "../../../src/model/room-events.js";
import { xml, type XmlElement } from "../connection.js";
import { XMPP } from "../address.js";
import type { XmppRuntime } from "../stanza.js";
import { errorMessage } from "../../../src/errors/message.js";

export const NS_MUC = "http://jabber.org/protocol/muc";
export const NS_MUC_USER = "http://jabber.org/protocol/muc#user";
export const MAX_NICK_CHARS = 64;
export const LISTENER_NICK = "parley-bridge";

interface Pending {
  readonly resolve: () => void;
  readonly reject: (e: DeliveryError) => void;
}

/** What the room said when it refused a join: the sender is told, the link is marked unhealthy. */
const REFUSALS: Record<string, string> = {
  "registration-required": "the room is members-only",
  "not-authorized": "the room needs a password",
  forbidden: "the puppet is banned from the room",
  "service-unavailable": "the room is full",
  "item-not-found": "the room does not exist",
  "not-allowed": "the room cannot be created by Parley",
};

export function nickFor(displayName: string | undefined, fallback: string): string {
  return cleanRoomText(displayName ?? "", MAX_NICK_CHARS) || cleanRoomText(fallback, MAX_NICK_CHARS);
}

export class Occupants {
  /** `room|puppetJid` → nick, for occupants this process joined. */
  private readonly nicks = new Map<string, string>();
  private readonly pending = new Map<string, Pending>();
  /** Rooms whose last join was refused, with why (for health). */
  readonly refused = new Map<string, string>();
  /** Open rooms (no admin link) this gateway bridges: muc/open.ts. */
  readonly open = new Set<string>();

  constructor(private readonly rt: XmppRuntime) {}

  /** Whether Parley bridges `room` (a bare room JID in lower case): linked in the mappings, or open. */
  bridges(room: string): boolean {
    return this.open.has(room) || this.rt.ctx.mappings().rooms?.find(XMPP, room) !== undefined;
  }

  listenerJid(): string {
    return `${[...this.rt.domains][0]}/muc`;
  }

  nickOf(room: string, puppet: string): string | undefined {
    return this.nicks.get(`${room}|${puppet}`);
  }

  /** Whether `nick` in `room` is one of Parley's own occupants (its copies are never bridged). */
  isOwnNick(room: string, nick: string): boolean {
    if (nick === LISTENER_NICK) return true;
    for (const [key, n] of this.nicks) if (n === nick && key.startsWith(`${room}|`)) return true;
    return false;
  }

  async ensure(room: string, puppet: string, nick: string, network: string): Promise<void> {
    const known = this.nickOf(room, puppet);
    if (known === nick) return;
    try {
      await this.join(room, puppet, nick);
    } catch (e) {
      if (!(e instanceof DeliveryError) || e.nativeDetail !== "conflict") throw e;
      await this.join(room, puppet, cleanRoomText(`${nick} [${network}]`, MAX_NICK_CHARS));
    }
  }

  private join(room: string, puppet: string, nick: string): Promise<void> {
    const occupant = `${room}/${nick}`;
    const key = `${occupant}|${puppet}`;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(key);
        reject(new DeliveryError("transient", "timeout", `the room ${room} did not answer the join`));
      }, this.rt.config.confirmTimeoutMs);
      this.pending.set(key, {
        resolve: () => { clearTimeout(timer); this.nicks.set(`${room}|${puppet}`, nick); this.refused.delete(room); resolve(); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      });
      const x = xml("x", { xmlns: NS_MUC }, xml("history", { maxchars: "0" }));
      this.rt.link.send(xml("presence", { from: puppet, to: occupant }, x)).catch((e: unknown) => {
        this.pending.delete(key);
        clearTimeout(timer);
        reject(new DeliveryError("transient", "unavailable", `join not sent: ${errorMessage(e)}`));
      });
    });
  }

  async leave(room: string, puppet: string): Promise<void> {
    const nick = this.nicks.get(`${room}|${puppet}`);
    if (nick === undefined) return;
    this.nicks.delete(`${room}|${puppet}`);
    await this.rt.link.send(xml("presence", { from: puppet, to: `${room}/${nick}`, type: "unavailable" }));
  }

  /** A presence from a room to one of Parley's JIDs: settle a join in flight; true when it was one. */
  settle(el: XmlElement): boolean {
    const key = `${el.attrs.from ?? ""}|${el.attrs.to ?? ""}`;
    const pending = this.pending.get(key);
    if (!pending) return false;
    this.pending.delete(key);
    if (el.attrs.type === "error") {
      const condition = el.getChild("error")?.getChildElements()[0]?.name ?? "undefined-condition";
      const why = REFUSALS[condition] ?? `the room refused the join (${condition})`;
      const room = (el.attrs.from ?? "").split("/")[0]!;
      if (condition !== "conflict") this.refused.set(room, why);
      this.rt.log.warn({ room, condition }, "MUC join refused");
      pending.reject(new DeliveryError(condition === "conflict" ? "transient" : "permanent", "refused-by-policy", why, { nativeDetail: condition }));
    } else if (el.attrs.type !== "unavailable") {
      pending.resolve();
    }
    return true;
  }

  /** The room removed an occupant of Parley's (kick 307, ban 301, room destroyed): forget it. */
  removed(room: string, puppet: string, why: string): void {
    this.nicks.delete(`${room}|${puppet}`);
    this.refused.set(room, why);
  }
}
