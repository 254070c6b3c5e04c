/**
 * Parley's own XEP-0045 MUC service (issue 12, open rooms from XMPP; docs/rooms.md): an XMPP user
 * joins a room of another network — a Matrix room — at its room JID on the network's shared
 * component domain (service-jid.ts). The first join opens the room (core check: open-federation
 * policy, the Matrix room exists and takes Parley; then core open), and from then on Parley is the
 * room's MUC service for its XMPP occupants:
 *
 * - join (§7.2): the occupants already present, then the self-presence with status 110 and 100
 *   (the room is non-anonymous: Matrix shows every occupant's puppet by address anyway), then the
 *   subject (§7.2.15, an empty `<subject/>` when the room has none);
 * - groupchat (§7.4): accepted into the core once; the sender's reflection and every other
 *   occupant's copy come from the room's one delivery back to this service (service-out.ts);
 * - leave (§7.14): self-presence unavailable with 110, the others see the departure.
 *
 * A subject change by an occupant is `forbidden` (§8.1): the subject is the Matrix room's topic,
 * changed there (a puppet would need the room's power to set it). Refused in XMPP's own form: no nick or a malformed one (`jid-malformed`), a nick that is not one
 * line of at most 64 characters (`not-acceptable`), a nick in use (`conflict`), no such room or
 * one Parley cannot open (`item-not-found`), a policy refusal (`forbidden`), a nick change
 * (`not-acceptable`: leave and join again), a message from a non-occupant (`not-acceptable`).
 */
import { ParleyError, isParleyError } from "../../../src/errors/parley-error.js";
import { errorMessage } from "../../../src/errors/message.js";
import type { Endpoint } from "../../../src/model/address.js";
import { newCanonicalId, type CanonicalId } from "../../../src/model/ids.js";
import { DEFAULT_HOPS } from "../../../src/model/message.js";
import type { NativeRoom, Room } from "../../../src/model/room.js";
import { cleanRoomText, type RoomActivityInput } from "../../../src/model/room-events.js";
import type { AcceptResult } from "../../../src/adapter/contract.js";
import { XMPP, fromNative, parseJid } from "../address.js";
import { xml, type XmlElement } from "../connection.js";
import { errorForParleyError, type StanzaErrorSpec } from "../errors.js";
import { NS_HOPS } from "../ids.js";
import { drop, replyError, type XmppRuntime } from "../stanza.js";
import { NS_DISCO_INFO, NS_DISCO_ITEMS } from "../disco.js";
import { MAX_NICK_CHARS } from "./occupants.js";
import { parseServiceRoomJid, serviceRoomJid } from "./service-jid.js";
import type { ServiceRoomState } from "./service-state.js";
import { occupantPresence, remoteJid, sendAll, subjectMessage } from "./service-out.js";
import { withFiles } from "../media/inbound.js";

const AUTH = { method: "network" as const, detail: "XMPP server on the component link (RFC 6120 §8.1.2.1), occupant of Parley's MUC service" };

/** A stanza addressed to a room of Parley's service: the room's JID and its home room; undefined for anything else. */
export function serviceRoomOf(rt: XmppRuntime, to: string | undefined): { jid: string; home: NativeRoom } | undefined {
  if (to === undefined) return undefined;
  const m = rt.ctx.mappings();
  const home = parseServiceRoomJid(to, m);
  if (home === undefined) return undefined;
  const bare = to.split("/")[0]!.toLowerCase();
  const jid = serviceRoomJid(home, m);
  return jid === undefined || !rt.domains.has(jid.slice(jid.lastIndexOf("@") + 1)) ? undefined : { jid: bare, home };
}

interface Sender {
  readonly full: string;
  readonly bare: string;
  readonly who: Endpoint;
}

function senderOf(rt: XmppRuntime, el: XmlElement): Sender | undefined {
  const from = el.attrs.from;
  if (from === undefined) return undefined;
  try {
    const j = parseJid(from);
    if (rt.domains.has(j.domain) || j.resource === undefined) return undefined;
    const bare = j.local === "" ? j.domain : `${j.local}@${j.domain}`;
    const who = fromNative(bare, rt.ctx.mappings());
    return who.network === XMPP ? { full: from, bare, who } : undefined;
  } catch {
    return undefined;
  }
}

const fail = (type: StanzaErrorSpec["type"], condition: StanzaErrorSpec["condition"], text: string): StanzaErrorSpec => ({ type, condition, text });

/** A refusal of the core as a MUC join error: no such room, forbidden, or try later. */
function joinError(e: unknown): StanzaErrorSpec {
  if (!isParleyError(e)) return fail("wait", "internal-server-error", "Internal error in the gateway.");
  switch (e.code) {
    case "PARLEY_ADDRESS_UNKNOWN": case "PARLEY_ADDRESS_INVALID": return fail("cancel", "item-not-found", e.message);
    case "PARLEY_REFUSED": case "PARLEY_DISABLED": case "PARLEY_NOT_AUTHENTICATED": return fail("auth", "forbidden", e.message);
    default: return errorForParleyError(e);
  }
}

async function accept(rt: XmppRuntime, room: string, activity: RoomActivityInput): Promise<AcceptResult | undefined> {
  const [r] = await rt.ctx.accept([{ kind: "room", room: { network: XMPP, id: room }, activity }]);
  return r;
}

/** The room is open (bridged) already, or is opened now with this user as the opener. */
async function ensureOpen(rt: XmppRuntime, room: string, home: NativeRoom, opener: Endpoint): Promise<void> {
  const rooms = rt.ctx.rooms;
  if (!rooms) throw new ParleyError("PARLEY_ADDRESS_UNKNOWN", "this gateway opens no rooms");
  const bridged = (r: Room | undefined) => {
    if (r === undefined) return false;
    // The room bridges this service room — or something else (a portal Parley made for another network's room).
    if (r.natives.get(XMPP)?.id !== room) throw new ParleyError("PARLEY_REFUSED", `the Matrix room ${home.id} is bridged already, not through this service`);
    return true;
  };
  if (bridged(await rooms.find(home))) return;
  const checked = await rooms.check(home, opener);
  const canonical = serviceRoomJid(checked, rt.ctx.mappings());
  if (canonical !== room) throw new ParleyError("PARLEY_ADDRESS_UNKNOWN", `this room's JID is ${canonical ?? "(none)"}`);
  if (bridged(await rooms.find(checked))) return;
  await rooms.open(checked, { network: XMPP, id: room });
  rt.log.info({ room, home: `${home.network}:${home.id}` }, "service room opened");
}

async function join(rt: XmppRuntime, st: ServiceRoomState, el: XmlElement, s: Sender, room: string, home: NativeRoom, nick: string): Promise<void> {
  if (nick === "") return replyError(rt, el, fail("modify", "jid-malformed", "a nick is needed: join room@service/nick"));
  if (cleanRoomText(nick, MAX_NICK_CHARS) !== nick) return replyError(rt, el, fail("modify", "not-acceptable", `a nick is one line of at most ${MAX_NICK_CHARS} characters`));
  const current = await st.localNick(room, s.full);
  if (current === nick) return; // a presence update of an occupant: not bridged
  if (current !== undefined) return replyError(rt, el, fail("modify", "not-acceptable", "changing nick is not supported in this room: leave and join again"));
  const holder = await st.holderOf(room, nick);
  if (holder !== undefined && holder !== `l|${s.full}`) return replyError(rt, el, fail("cancel", "conflict", "that nick is in use in the room"));
  const before = await st.occupants(room);
  const firstSession = ![...before.local.keys()].some((jid) => jid.split("/")[0]!.toLowerCase() === s.bare.toLowerCase());
  // In the room before it is opened: the members an opening reads from the home room reach this session too.
  await st.addLocal(room, s.full, nick);
  try {
    await ensureOpen(rt, room, home, s.who);
    if (firstSession) {
      const r = await accept(rt, room, { type: "membership", membership: { id: newCanonicalId(), member: s.who, change: "join", displayName: nick, authenticatedBy: AUTH, at: new Date().toISOString() } });
      if (r?.status === "refused") throw r.error;
    }
  } catch (e) {
    await st.removeLocal(room, s.full, nick);
    rt.log.info({ room, code: isParleyError(e) ? e.code : "error", reason: errorMessage(e) }, "service room join refused");
    return replyError(rt, el, joinError(e));
  }
  const now = await st.occupants(room);
  // §7.2.3: the occupants already in the room, in one go, then the newcomer to the others.
  const others = [...now.local].filter(([jid]) => jid !== s.full);
  const existing = [
    ...[...now.remote.values()].map((o) => occupantPresence(rt, room, o.nick, s.full, { jid: remoteJid(rt, o.member) })),
    ...others.map(([jid, n]) => occupantPresence(rt, room, n, s.full, { jid })),
  ];
  for (const p of existing) await rt.link.send(p);
  await sendAll(rt, others.map(([jid]) => jid), (to) => occupantPresence(rt, room, nick, to, { jid: s.full }));
  await rt.link.send(occupantPresence(rt, room, nick, s.full, { jid: s.full, codes: ["100", "110"] }));
  const subject = await st.subject(room);
  await rt.link.send(subjectMessage(room, subject?.nick, s.full, subject?.text ?? ""));
  rt.log.info({ room, occupants: now.local.size + now.remote.size }, "service room joined");
}


async function leave(rt: XmppRuntime, st: ServiceRoomState, s: Sender, room: string): Promise<void> {
  const nick = await st.localNick(room, s.full);
  if (nick === undefined) return;
  await st.removeLocal(room, s.full, nick);
  const after = await st.occupants(room);
  await rt.link.send(occupantPresence(rt, room, nick, s.full, { jid: s.full, codes: ["110"], unavailable: true }));
  await sendAll(rt, [...after.local.keys()], (to) => occupantPresence(rt, room, nick, to, { jid: s.full, unavailable: true }));
  const lastSession = ![...after.local.keys()].some((jid) => jid.split("/")[0]!.toLowerCase() === s.bare.toLowerCase());
  if (lastSession) {
    const r = await accept(rt, room, { type: "membership", membership: { id: newCanonicalId(), member: s.who, change: "leave", displayName: nick, authenticatedBy: AUTH, at: new Date().toISOString() } });
    if (r?.status === "refused") rt.log.info({ room, code: r.error.code }, "service room leave not bridged");
  }
}

async function groupchat(rt: XmppRuntime, st: ServiceRoomState, el: XmlElement, s: Sender, room: string): Promise<void> {
  const nick = await st.localNick(room, s.full);
  if (nick === undefined) return replyError(rt, el, fail("modify", "not-acceptable", "only occupants may send messages to this room: join it first"));
  const subject = el.getChild("subject");
  const body = el.getChildText("body");
  let activity: RoomActivityInput;
  if (subject && body === null) {
    // §8.1: occupants may not change the subject here; it is the Matrix room's topic, set there.
    return replyError(rt, el, fail("auth", "forbidden", "the subject of this room is the Matrix room's topic: it is changed in the Matrix room"));
  } else if (body !== null) {
    if (Buffer.byteLength(body) > rt.config.maxBodyBytes) return replyError(rt, el, fail("modify", "policy-violation", `the body is larger than ${rt.config.maxBodyBytes} bytes`));
    // Files offered by URL (XEP-0066 OOB, an upload host's URL) are fetched as a one-to-one message's are; refused: a stanza error from the room.
    const parts = await withFiles(rt, el, s.who, [{ role: "text", body }]);
    if (parts === undefined) return;
    const hopsText = el.getChildText("hops", NS_HOPS);
    activity = { type: "message", message: {
      id: newCanonicalId(), from: s.who, authenticatedBy: AUTH, displayName: nick, sentAt: new Date().toISOString(), kind: "chat",
      nativeIds: el.attrs.id ? [{ network: XMPP, kind: "muc-id", id: el.attrs.id.slice(0, 1024), scope: room }] : [],
      parts,
      hops: hopsText !== null && /^\d{1,3}$/.test(hopsText) ? Math.min(255, Number(hopsText)) : DEFAULT_HOPS,
    } };
  } else {
    return; // chat states and other body-less groupchat: not bridged
  }
  const r = await accept(rt, room, activity);
  if (r?.status === "refused") await replyError(rt, el, errorForParleyError(r.error));
  else if (r?.status === "accepted" && activity.type === "message" && el.attrs.id) {
    await rt.ctx.ids.link(r.messageId ?? (activity.message.id as CanonicalId), { network: XMPP, kind: "muc-id", id: el.attrs.id.slice(0, 1024), scope: room });
  }
}

/** XEP-0045 §6.4: disco#info of a room (asking an unopened room checks it, as a join would). */
async function iq(rt: XmppRuntime, el: XmlElement, s: Sender | undefined, room: string, home: NativeRoom, hasNick: boolean): Promise<void> {
  const type = el.attrs.type;
  if (type === "result" || type === "error") return;
  const child = el.getChildElements()[0];
  const ns = child?.attrs.xmlns;
  if (hasNick || type !== "get" || child?.name !== "query" || (ns !== NS_DISCO_INFO && ns !== NS_DISCO_ITEMS)) {
    return replyError(rt, el, fail("cancel", "service-unavailable", `${(child?.name ?? "(none)").slice(0, 50)} is not supported by this room`));
  }
  const rooms = rt.ctx.rooms;
  if (!s || !rooms) return replyError(rt, el, fail("cancel", "item-not-found", "no such room"));
  if (!(await rooms.find(home))) {
    try {
      await rooms.check(home, s.who);
    } catch (e) {
      return replyError(rt, el, joinError(e));
    }
  }
  const query = ns === NS_DISCO_ITEMS
    ? xml("query", { xmlns: NS_DISCO_ITEMS })
    : xml("query", { xmlns: NS_DISCO_INFO },
      xml("identity", { category: "conference", type: "text", name: home.id }),
      ...["http://jabber.org/protocol/muc", "muc_public", "muc_open", "muc_unmoderated", "muc_nonanonymous", "muc_persistent", "muc_unsecured"].map((v) => xml("feature", { var: v })));
  await rt.link.send(xml("iq", { type: "result", from: room, to: el.attrs.from, id: el.attrs.id }, query));
}

/** Handle one stanza to a room of Parley's MUC service; false when it is not addressed to one. */
export async function handleServiceStanza(rt: XmppRuntime, st: ServiceRoomState, el: XmlElement): Promise<boolean> {
  const target = serviceRoomOf(rt, el.attrs.to);
  if (!target) return false;
  const { jid: room, home } = target;
  const to = el.attrs.to ?? "";
  const slash = to.indexOf("/");
  const nick = slash < 0 ? "" : to.slice(slash + 1);
  const s = senderOf(rt, el);
  try {
    if (el.name === "iq") return await iq(rt, el, s, room, home, slash >= 0), true;
    if (!s) {
      drop(rt, el, "a stanza to a service room from no XMPP user's full JID");
      return true;
    }
    if (el.name === "presence") {
      if (el.attrs.type === "unavailable") await leave(rt, st, s, room);
      else if (el.attrs.type === undefined) await join(rt, st, el, s, room, home, nick);
      else if (el.attrs.type !== "error") drop(rt, el, `presence of type ${el.attrs.type.slice(0, 20)} to a room`);
    } else if (el.name === "message") {
      if (el.attrs.type === "error") return true;
      if (el.attrs.type === "groupchat" && slash < 0) await groupchat(rt, st, el, s, room);
      else if (el.attrs.type === "groupchat") await replyError(rt, el, fail("modify", "bad-request", "a groupchat goes to the room's bare JID"));
      else await replyError(rt, el, fail("cancel", "feature-not-implemented", "private messages in this room are not bridged; message the member's puppet directly"));
    }
  } catch (e) {
    rt.log.warn({ room, stanza: el.name, err: isParleyError(e) ? e.code : errorMessage(e) }, "service room stanza failed");
    await replyError(rt, el, joinError(isParleyError(e) ? e : new ParleyError("PARLEY_UNAVAILABLE")));
  }
  return true;
}
