/**
 * Room activity shown in a room of Parley's own XEP-0045 service (issue 12, open rooms from XMPP):
 * the room gets one delivery per activity (one per bridged native room, never per member) and fans
 * it out here to each XMPP occupant's session. A member of the home network (a Matrix member) is
 * an occupant `<room>/<nick>` (display name; on a clash `name [matrix]`, then numbered); a
 * groupchat of an XMPP occupant comes back here too (this adapter hosts the room,
 * `hostsRoom`), and is the sender's reflection (§7.4: same `id`) and the others' copy, with the
 * room's XEP-0359 stanza-id.
 */
import type { DeliveryOutcome } from "../../../src/adapter/contract.js";
import type { Endpoint } from "../../../src/model/address.js";
import type { RoomDelivery } from "../../../src/model/room-events.js";
import { XMPP, parseJid, toNative } from "../address.js";
import { filesOf, oobElements } from "../media/outbound.js";
import { mucBodies } from "./files-out.js";
import { xml, type XmlElement } from "../connection.js";
import { NS_SID, stanzaIdFor } from "../ids.js";
import type { XmppRuntime } from "../stanza.js";
import { MAX_NICK_CHARS, NS_MUC_USER, nickFor } from "./occupants.js";
import type { ServiceRoomState } from "./service-state.js";

export interface PresenceOptions {
  readonly jid?: string;
  readonly codes?: readonly string[];
  readonly unavailable?: boolean;
  readonly reason?: string;
}

/** The puppet JID a home-network member is shown with (non-anonymous room), if it has one. */
export function remoteJid(rt: XmppRuntime, member: Endpoint): string | undefined {
  try {
    return toNative(member, rt.ctx.mappings());
  } catch {
    return undefined;
  }
}

/** An occupant's presence as the room sends it (§7.2.3): from `<room>/<nick>`, with its item and status codes. */
export function occupantPresence(_rt: XmppRuntime, room: string, nick: string, to: string, o: PresenceOptions): XmlElement {
  const item = xml("item", { affiliation: "none", role: o.unavailable ? "none" : "participant", ...(o.jid ? { jid: o.jid } : {}) }, ...(o.reason ? [xml("reason", {}, o.reason)] : []));
  const x = xml("x", { xmlns: NS_MUC_USER }, item, ...(o.codes ?? []).map((code) => xml("status", { code })));
  return xml("presence", { from: `${room}/${nick}`, to, ...(o.unavailable ? { type: "unavailable" } : {}) }, x);
}

/** §7.2.15: the subject (empty when the room has none), from the occupant who set it or the room. */
export function subjectMessage(room: string, nick: string | undefined, to: string, text: string): XmlElement {
  return xml("message", { type: "groupchat", from: nick ? `${room}/${nick}` : room, to, id: `subject-${Date.now().toString(36)}` }, xml("subject", {}, text));
}

/** Send one stanza per occupant session. */
export async function sendAll(rt: XmppRuntime, to: readonly string[], make: (to: string) => XmlElement): Promise<void> {
  await Promise.all(to.map((jid) => rt.link.send(make(jid))));
}

/** A home-network member's nick in the room; one who is not yet an occupant enters first (their presence to everyone). */
async function remoteNick(rt: XmppRuntime, st: ServiceRoomState, room: string, member: Endpoint, displayName: string | undefined, locals: readonly string[]): Promise<string> {
  const known = await st.remote(room, member);
  if (known) return known.nick;
  const nick = await st.addRemote(room, member, nickFor(displayName, member.address.split("@")[0]!), MAX_NICK_CHARS);
  await sendAll(rt, locals, (to) => occupantPresence(rt, room, nick, to, { jid: remoteJid(rt, member) }));
  return nick;
}

const REMOVAL_CODE = { kick: "307", ban: "301" } as const;

export async function deliverToServiceRoom(rt: XmppRuntime, st: ServiceRoomState, delivery: RoomDelivery): Promise<DeliveryOutcome> {
  const room = delivery.target.id;
  const a = delivery.activity;
  const occupants = await st.occupants(room);
  const locals = [...occupants.local.keys()];
  const done: DeliveryOutcome = { state: "relayed", nativeIds: [] };
  if (a.type === "displayed") return done;
  if (a.type === "membership") {
    const m = a.membership;
    // XMPP occupants were shown to the room at their own join and leave (service.ts).
    if (m.member.network === XMPP) return done;
    if (m.change === "join" || m.change === "rename") {
      const known = await st.remote(room, m.member);
      const wanted = nickFor(m.displayName, m.member.address.split("@")[0]!);
      if (!known) {
        await remoteNick(rt, st, room, m.member, m.displayName, locals);
      } else if (known.nick !== wanted && m.displayName !== undefined) {
        const nick = await st.addRemote(room, m.member, wanted, MAX_NICK_CHARS);
        if (nick !== known.nick) {
          // §7.6.3: unavailable with 303 and the new nick, then available under it.
          const jid = remoteJid(rt, m.member);
          await sendAll(rt, locals, (to) => xml("presence", { from: `${room}/${known.nick}`, to, type: "unavailable" },
            xml("x", { xmlns: NS_MUC_USER }, xml("item", { affiliation: "none", role: "participant", nick, ...(jid ? { jid } : {}) }), xml("status", { code: "303" }))));
          await sendAll(rt, locals, (to) => occupantPresence(rt, room, nick, to, { jid }));
        }
      }
      return done;
    }
    const gone = await st.removeRemote(room, m.member);
    if (gone) {
      const code = m.change === "kick" || m.change === "ban" ? [REMOVAL_CODE[m.change]] : [];
      await sendAll(rt, locals, (to) => occupantPresence(rt, room, gone.nick, to, { jid: remoteJid(rt, m.member), codes: code, unavailable: true, reason: m.reason }));
    }
    return done;
  }
  if (a.type === "subject") {
    const by = a.subject.by;
    const nick = by.network === XMPP ? [...occupants.local.entries()].find(([jid]) => remoteJid(rt, by)?.toLowerCase() === jid.split("/")[0]!.toLowerCase())?.[1] : await remoteNick(rt, st, room, by, undefined, locals);
    await st.setSubject(room, { text: a.subject.subject, nick });
    await sendAll(rt, locals, (to) => subjectMessage(room, nick, to, a.subject.subject));
    return done;
  }
  const m = a.message;
  if (m.reaction !== undefined || m.retracts !== undefined) {
    rt.log.info({ room, id: m.id }, "reaction or retraction in a service room: not shown (not supported here yet)");
    return done;
  }
  const own = m.nativeIds.find((n) => n.network === XMPP && n.kind === "muc-id" && n.scope === room)?.id;
  const fromXmpp = m.from.network === XMPP;
  const nick = fromXmpp ? (m.displayName ?? m.from.address) : await remoteNick(rt, st, room, m.from, m.displayName, locals);
  const id = fromXmpp && own !== undefined ? own : stanzaIdFor(m.id);
  // Files as links on Parley's media listener, one groupchat each after the text (files-out.ts), under the limits of the service's domain.
  const bodies = mucBodies(m, filesOf(rt, m, parseJid(room).domain));
  for (const [i, b] of bodies.entries()) {
    await sendAll(rt, locals, (to) => xml("message", { type: "groupchat", from: `${room}/${nick}`, to, id: i === 0 ? id : `${id}-${i}` },
      xml("body", {}, b.body), ...(b.file ? oobElements([b.file]) : []), xml("stanza-id", { xmlns: NS_SID, id: i === 0 ? m.id : `${m.id}-${i}`, by: room })));
  }
  return { state: "relayed", nativeIds: fromXmpp ? [] : [{ network: XMPP, kind: "muc-id", id, scope: room }] };
}
