/**
 * Puppets as occupants of MUC rooms (XEP-0045 §7.2): a puppet joins `room/nick` from its own JID
 * on Parley's component and waits for its self-presence (status 110) or the room's refusal. The
 * nick is the member's display name, one line of at most {@link MAX_NICK_CHARS} characters; when
 * the room says the nick is taken (`conflict`, §7.2.9) the puppet tries `nick [network]` once.
 *
 * One listener occupant per room (the component domain's own JID, nick {@link LISTENER_NICK}) is
 * the one copy of the room's traffic Parley bridges; every puppet also gets a copy and drops it.
 *
 * Who sits in which room with which nick is kept in Redis (one hash per room, so one cluster slot:
 * `muc-occupants:<room>`, field `p <puppet JID>` → `<nick>\n<nick asked for>`), so a restarted process or the next holder of the component link knows its occupants and
 * does not join again. A join recorded there is trusted only once this link session has checked it
 * with an XEP-0410 self-ping (one IQ, no presence broadcast to the room): the server answers
 * `not-acceptable` when it dropped the occupant (it restarted, or the room was destroyed), and the
 * puppet then joins again. Every reconnect of the link checks again. A room destroyed while Parley
 * sat in it is marked in the same hash (field `destroyed`) until the listener joins it again.
 */
import { DeliveryError, type RoomLinkFailure, type RoomLinkProblem } from "../../../src/adapter/contract.js";
import { cleanRoomText } from "../../../src/model/room-events.js";
import { mapEntries } from "../../../src/adapter/state.js";
import { NS_PING, xml, type XmlElement } from "../connection.js";
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
const REFUSALS: Record<string, readonly [RoomLinkFailure, string]> = {
  "registration-required": ["members-only", "the room is members-only"],
  "not-authorized": ["password", "the room needs a password"],
  forbidden: ["banned", "the puppet is banned from the room"],
  "service-unavailable": ["full", "the room is full"],
  "item-not-found": ["not-found", "the room does not exist"],
  "not-allowed": ["not-allowed", "the room cannot be created by Parley"],
};

/** An unhealthy room: why, and whether it was the listener occupant that was removed (then only its own join clears it). */
interface Unhealthy extends RoomLinkProblem {
  readonly listener: boolean;
}

/**
 * Why the room removed one of Parley's occupants, from its unavailable self-presence (XEP-0045
 * §9.1 ban 301, §8.2 kick 307, §9.4/§9.6 affiliation change or members-only 321/322, §10.9 room
 * destroyed, 332 service shutdown); undefined for an occupant's own leave.
 */
export function removalOf(el: XmlElement): { reason: RoomLinkFailure; detail: string } | undefined {
  if (el.attrs.type !== "unavailable") return undefined;
  const x = el.getChildren("x").find((c) => c.attrs.xmlns === NS_MUC_USER);
  if (!x) return undefined;
  const said = (e: XmlElement | undefined): string => {
    const r = e?.getChildText("reason");
    return r ? `: ${cleanRoomText(r, 256)}` : "";
  };
  const destroy = x.getChild("destroy");
  if (destroy) return { reason: "destroyed", detail: `the room was destroyed${said(destroy)}` };
  const codes = new Set(x.getChildren("status").map((s) => s.attrs.code ?? ""));
  const item = x.getChild("item");
  if (codes.has("301")) return { reason: "banned", detail: `Parley was banned from the room${said(item)}` };
  if (codes.has("307")) return { reason: "kicked", detail: `Parley was kicked from the room${said(item)}` };
  if (codes.has("321") || codes.has("322")) return { reason: "members-only", detail: "the room removed Parley: it is members-only now" };
  if (codes.has("332")) return { reason: "removed", detail: "the room's service shut down" };
  return undefined;
}

export function nickFor(displayName: string | undefined, fallback: string): string {
  return cleanRoomText(displayName ?? "", MAX_NICK_CHARS) || cleanRoomText(fallback, MAX_NICK_CHARS);
}

/** The Redis hash of one room's occupants of Parley's (one key: one cluster slot). */
export const occupantsMap = (room: string): string => `muc-occupants:${room}`;
/** The field of {@link occupantsMap} that says the room was destroyed (its value: the detail shown). */
const DESTROYED_FIELD = "destroyed";

export class Occupants {
  /** `room|puppetJid` → nick actually held, for occupants of Parley's (a cache of the Redis hash). */
  private readonly nicks = new Map<string, string>();
  /** `room|puppetJid` → the nick asked for (differs from the held one after a conflict). */
  private readonly wanted = new Map<string, string>();
  /** room → nick → puppet JID, so an occupant's copy is recognised as Parley's in O(1). */
  private readonly byNick = new Map<string, Map<string, string>>();
  /** `room|puppetJid` confirmed in this link session (joined, or answered a self-ping). */
  private readonly verified = new Set<string>();
  /** Rooms whose Redis hash this process has read since the link came up. */
  private readonly loaded = new Set<string>();
  private readonly pending = new Map<string, Pending>();
  /** Occupant JIDs of joins in flight: the room shows the others a puppet's entry before its own self-presence. */
  private readonly joining = new Set<string>();
  /** Rooms whose last join was refused, or that removed an occupant of Parley's, with why (for health). */
  private readonly refused = new Map<string, Unhealthy>();
  /** Open rooms (no admin link) this gateway bridges: muc/open.ts. */
  readonly open = new Set<string>();

  constructor(private readonly rt: XmppRuntime) {}

  /** Whether Parley bridges `room` (a bare room JID in lower case): linked in the mappings, or open. */
  bridges(room: string): boolean {
    return this.open.has(room) || this.rt.ctx.mappings().rooms?.find(XMPP, room) !== undefined;
  }

  /** Rooms refusing or having removed Parley now (LinkHealth.rooms). */
  unhealthy(): RoomLinkProblem[] {
    return [...this.refused.values()].map(({ room, reason, detail }) => ({ room, reason, detail }));
  }

  /** Why `room` is unhealthy, if it is. */
  problemOf(room: string): RoomLinkProblem | undefined {
    return this.refused.get(room);
  }

  /** Mark `room` unhealthy (counted once per transition into a reason). */
  private fail(room: string, reason: RoomLinkFailure, detail: string, listener: boolean): void {
    const before = this.refused.get(room);
    this.refused.set(room, { room, reason, detail, listener: listener || (before?.listener ?? false) });
    if (before?.reason !== reason) this.rt.ctx.roomLinkFailed?.(reason);
    if (reason === "destroyed") this.rt.ctx.state.mapSet(occupantsMap(room), DESTROYED_FIELD, detail).catch((e: unknown) => this.rt.log.warn({ room, err: errorMessage(e) }, "destroyed room not recorded"));
    this.rt.log.warn({ room, reason, detail }, "bridged MUC room marked unhealthy");
  }

  /** A join of `puppet` succeeded: the room is healthy again, unless the listener is still out and this was a puppet. */
  private joined(room: string, puppet: string): void {
    const was = this.refused.get(room);
    if (!was || (was.listener && puppet !== this.listenerJid())) return;
    this.refused.delete(room);
    if (was.reason === "destroyed") this.rt.ctx.state.mapDelete(occupantsMap(room), DESTROYED_FIELD).catch((e: unknown) => this.rt.log.warn({ room, err: errorMessage(e) }, "destroyed mark not removed"));
    this.rt.log.info({ room, was: was.reason }, "bridged MUC room healthy again");
  }

  /** Whether the listener occupant is out of `room` (removed): deliveries try to bring it back first. */
  listenerOut(room: string): boolean {
    return this.refused.get(room)?.listener === true && !this.nicks.has(`${room}|${this.listenerJid()}`);
  }

  listenerJid(): string {
    return `${[...this.rt.domains][0]}/muc`;
  }

  nickOf(room: string, puppet: string): string | undefined {
    return this.nicks.get(`${room}|${puppet}`);
  }

  /** Whether `nick` in `room` is one of Parley's own occupants (its copies are never bridged). */
  isOwnNick(room: string, nick: string): boolean {
    return nick === LISTENER_NICK || this.byNick.get(room)?.has(nick) === true || this.joining.has(`${room}/${nick}`);
  }

  /**
   * The link came up (again): what the server holds is unknown until checked. Reads the rooms'
   * occupants from Redis (joined by this or an earlier process) and forgets every confirmation.
   */
  async linkUp(rooms: Iterable<string>): Promise<void> {
    this.verified.clear();
    this.loaded.clear();
    for (const room of rooms) await this.load(room);
  }

  private async load(room: string): Promise<void> {
    if (this.loaded.has(room)) return;
    for await (const [field, value] of mapEntries(this.rt.ctx.state, occupantsMap(room))) {
      // A room destroyed while Parley sat in it stays marked for the next process, so its listener's join does not make it again.
      if (field === DESTROYED_FIELD && !this.refused.has(room)) this.refused.set(room, { room, reason: "destroyed", detail: value, listener: true });
      if (!field.startsWith("p ")) continue;
      const [held, wanted] = value.split("\n");
      if (held) this.remember(room, field.slice(2), held, wanted || held);
    }
    this.loaded.add(room);
  }

  private remember(room: string, puppet: string, nick: string, wanted: string): void {
    const key = `${room}|${puppet}`;
    const before = this.nicks.get(key);
    if (before !== undefined && before !== nick) this.byNick.get(room)?.delete(before);
    this.nicks.set(key, nick);
    this.wanted.set(key, wanted);
    let m = this.byNick.get(room);
    if (!m) this.byNick.set(room, (m = new Map<string, string>()));
    m.set(nick, puppet);
  }

  private async forget(room: string, puppet: string): Promise<void> {
    const key = `${room}|${puppet}`;
    const nick = this.nicks.get(key);
    this.nicks.delete(key);
    this.wanted.delete(key);
    this.verified.delete(key);
    if (nick !== undefined) this.byNick.get(room)?.delete(nick);
    await this.rt.ctx.state.mapDelete(occupantsMap(room), `p ${puppet}`);
  }

  private async record(room: string, puppet: string, nick: string, wanted: string): Promise<void> {
    this.remember(room, puppet, nick, wanted);
    this.verified.add(`${room}|${puppet}`);
    await this.rt.ctx.state.mapSet(occupantsMap(room), `p ${puppet}`, `${nick}\n${wanted}`);
  }

  /**
   * `puppet` sits in `room` (asked for as `nick`): joins unless this link session knows it does, or
   * a self-ping says so. With `roster`, an occupant still in the room leaves and joins again, so the
   * room sends it every occupant's presence (the listener needs the real JIDs it missed while no
   * link was up: a stale nick → JID map would name the wrong sender).
   */
  async ensure(room: string, puppet: string, nick: string, network: string, opts: { roster?: boolean } = {}): Promise<void> {
    const key = `${room}|${puppet}`;
    await this.load(room);
    const held = this.nicks.get(key);
    if (held !== undefined && this.wanted.get(key) === nick) {
      if (this.verified.has(key)) return;
      if (await this.selfPing(room, puppet, held)) {
        if (!opts.roster) {
          this.verified.add(key);
          return;
        }
        await this.rt.link.send(xml("presence", { from: puppet, to: `${room}/${held}`, type: "unavailable" }));
      } else {
        this.rt.log.info({ room, nick: held }, "MUC occupant of Parley's no longer in the room: joining again");
      }
    }
    try {
      await this.join(room, puppet, nick, nick);
    } catch (e) {
      if (!(e instanceof DeliveryError) || e.nativeDetail !== "conflict") throw e;
      try {
        await this.join(room, puppet, cleanRoomText(`${nick} [${network}]`, MAX_NICK_CHARS), nick);
      } catch (again) {
        if (again instanceof DeliveryError && again.nativeDetail === "conflict") this.fail(room, "nick-conflict", "the nick and its fallback are both taken in the room", puppet === this.listenerJid());
        throw again;
      }
    }
  }

  /**
   * XEP-0410 self-ping: whether the room still holds `puppet` as `nick`. A result (or an error of
   * the occupant's own client) means joined; `not-acceptable` (not an occupant), `item-not-found`
   * (no such room or occupant) or no answer mean it must join.
   */
  private async selfPing(room: string, puppet: string, nick: string): Promise<boolean> {
    try {
      const answer = await this.rt.link.request(xml("iq", { type: "get", from: puppet, to: `${room}/${nick}` }, xml("ping", { xmlns: NS_PING })));
      if (answer.attrs.type !== "error") return true;
      const condition = answer.getChild("error")?.getChildElements()[0]?.name;
      return condition === "service-unavailable" || condition === "feature-not-implemented";
    } catch {
      return false;
    }
  }

  private join(room: string, puppet: string, nick: string, wanted: string): Promise<void> {
    const occupant = `${room}/${nick}`;
    const key = `${occupant}|${puppet}`;
    this.joining.add(occupant);
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(key);
        reject(new DeliveryError("transient", "timeout", `the room ${room} did not answer the join`));
      }, this.rt.config.confirmTimeoutMs);
      this.pending.set(key, {
        resolve: () => {
          clearTimeout(timer);
          this.joined(room, puppet);
          this.record(room, puppet, nick, wanted).then(resolve, (e: unknown) => reject(new DeliveryError("transient", "unavailable", `the join was not recorded: ${errorMessage(e)}`)));
        },
        reject: (e) => { clearTimeout(timer); reject(e); },
      });
      const x = xml("x", { xmlns: NS_MUC }, xml("history", { maxchars: "0" }));
      this.rt.link.send(xml("presence", { from: puppet, to: occupant }, x)).catch((e: unknown) => {
        this.pending.delete(key);
        clearTimeout(timer);
        reject(new DeliveryError("transient", "unavailable", `join not sent: ${errorMessage(e)}`));
      });
    }).finally(() => this.joining.delete(occupant));
  }

  async leave(room: string, puppet: string): Promise<void> {
    await this.load(room);
    const nick = this.nicks.get(`${room}|${puppet}`);
    if (nick === undefined) return;
    await this.forget(room, puppet);
    await this.rt.link.send(xml("presence", { from: puppet, to: `${room}/${nick}`, type: "unavailable" }));
  }

  /** A presence from a room to one of Parley's JIDs: settle a join in flight; true when it was one. */
  settle(el: XmlElement): boolean {
    const key = `${el.attrs.from ?? ""}|${el.attrs.to ?? ""}`;
    const pending = this.pending.get(key);
    if (!pending) return false;
    if (el.attrs.type === "unavailable") return true; // the end of an earlier stay (a re-join leaves first)
    this.pending.delete(key);
    const room = (el.attrs.from ?? "").split("/")[0]!.toLowerCase();
    const puppet = el.attrs.to ?? "";
    if (el.attrs.type === "error") {
      const condition = el.getChild("error")?.getChildElements()[0]?.name ?? "undefined-condition";
      const [reason, why] = REFUSALS[condition] ?? ["refused", `the room refused the join (${condition})`];
      if (condition !== "conflict") this.fail(room, reason, why, puppet === this.listenerJid());
      this.rt.log.warn({ room, condition }, "MUC join refused");
      pending.reject(new DeliveryError(condition === "conflict" ? "transient" : "permanent", "refused-by-policy", why, { nativeDetail: condition }));
      return true;
    }
    const created = el.getChildren("x").find((c) => c.attrs.xmlns === NS_MUC_USER)?.getChildren("status").some((s) => s.attrs.code === "201") === true;
    if (created && this.refused.get(room)?.reason === "destroyed") {
      // The room was destroyed and this join made a new, empty one (status 201): leave it, and the sender is told.
      this.rt.link.send(xml("presence", { from: puppet, to: el.attrs.from ?? room, type: "unavailable" })).catch((e: unknown) => this.rt.log.warn({ room, err: errorMessage(e) }, "could not leave the room a join made"));
      pending.reject(new DeliveryError("permanent", "refused-by-policy", "the room was destroyed", { nativeDetail: "destroyed" }));
      return true;
    }
    pending.resolve();
    return true;
  }

  /** The room removed an occupant of Parley's (kick, ban, room destroyed: {@link removalOf}): forget it and mark the room unhealthy. */
  async removed(room: string, puppet: string, why: { reason: RoomLinkFailure; detail: string }): Promise<void> {
    this.fail(room, why.reason, why.detail, puppet === this.listenerJid());
    await this.forget(room, puppet);
  }

  /** An occupant of Parley's left on its own (or its leave was reflected): forget it, nothing is unhealthy. */
  async left(room: string, puppet: string): Promise<void> {
    if (this.nicks.has(`${room}|${puppet}`)) await this.forget(room, puppet);
  }
}
