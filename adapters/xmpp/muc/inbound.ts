/**
 * Stanzas from linked MUC rooms into the core (XEP-0045): the listener occupant's copy of each
 * groupchat message becomes a room message from the member's real JID (shown by non-anonymous
 * rooms in the occupant's presence, §7.2.3), or in a semi-anonymous room from the occupant JID
 * ({@link occupantEndpoint}), and their occupant presences become joins, leaves,
 * nick changes (303), kicks (307) and bans (301). Copies addressed to puppets, and Parley's own
 * occupants, are never bridged. Returns false for stanzas not from a linked room.
 */
import { isParleyError } from "../../../src/errors/parley-error.js";
import { errorMessage } from "../../../src/errors/message.js";
import { newCanonicalId } from "../../../src/model/ids.js";
import { DEFAULT_HOPS, type Part } from "../../../src/model/message.js";
import { cleanRoomText, MAX_SUBJECT_CHARS, type MembershipChange, type RoomActivityInput } from "../../../src/model/room-events.js";
import { canonicalAddress, domainOf, type Endpoint } from "../../../src/model/address.js";
import { XMPP, escapeLocal, fromNative } from "../address.js";
import { xml, type XmlElement } from "../connection.js";
import type { XmppRuntime } from "../stanza.js";
import { NS_CORRECT, NS_HOPS, NS_SID, canonicalFromStanzaId } from "../outbound.js";
import { handleMucInteraction, mucReplyOf, recordAuthor } from "./features.js";
import { LISTENER_NICK, NS_MUC_USER, removalOf, type Occupants } from "./occupants.js";
import { handleModeration, recordReflection } from "./moderation.js";
import { bodyIsOffer, fetchOffers, offeredFiles } from "../media/inbound.js";

const AUTH = { method: "network" as const, detail: "MUC room on the XMPP server (XEP-0045 occupant real JID)" };
/** Real JIDs of occupants as the room showed them to the listener: `room` → nick → bare JID. */
const realJids = new WeakMap<Occupants, Map<string, Map<string, string>>>();

function jidsOf(o: Occupants, room: string): Map<string, string> {
  let rooms = realJids.get(o);
  if (!rooms) realJids.set(o, (rooms = new Map<string, Map<string, string>>()));
  let m = rooms.get(room);
  if (!m) rooms.set(room, (m = new Map<string, string>()));
  return m;
}

function split(jid: string): { room: string; nick: string } {
  const slash = jid.indexOf("/");
  return slash < 0 ? { room: jid.toLowerCase(), nick: "" } : { room: jid.slice(0, slash).toLowerCase(), nick: jid.slice(slash + 1) };
}

function statuses(el: XmlElement): Set<string> {
  const x = el.getChildren("x").find((c) => c.attrs.xmlns === NS_MUC_USER);
  return new Set((x?.getChildren("status") ?? []).map((s) => s.attrs.code ?? ""));
}

async function accept(rt: XmppRuntime, room: string, activity: RoomActivityInput): Promise<void> {
  const [r] = await rt.ctx.accept([{ kind: "room", room: { network: XMPP, id: room }, activity }]);
  if (r?.status === "refused") rt.log.info({ room, code: r.error.code, err: r.error.message }, "room activity refused");
}

/** What {@link jidsOf} holds for an occupant whose real JID the room does not show (a semi-anonymous room). */
const ANONYMOUS = "";

/**
 * The canonical member behind an occupant the room shows only as `room@service/nick`: the
 * occupant JID itself, XEP-0106-escaped into one local part at the MUC service's domain
 * (`lounge\2fbob@conference.example.org` for `lounge@conference.example.org/bob`). Reversible, one per
 * nick; the MUC service's domain is its domain for the access rules. Undefined when it does not
 * fit an address (a nick too long: more than 255 bytes escaped).
 */
export function occupantEndpoint(room: string, nick: string): Endpoint | undefined {
  const at = room.lastIndexOf("@");
  try {
    return { address: canonicalAddress(`${escapeLocal(`${room.slice(0, at)}/${nick}`)}@${room.slice(at + 1)}`), network: XMPP };
  } catch {
    return undefined;
  }
}

function memberOf(rt: XmppRuntime, o: Occupants, room: string, nick: string): Endpoint | undefined {
  const real = jidsOf(o, room).get(nick);
  if (real === undefined) return undefined;
  if (real === ANONYMOUS) return occupantEndpoint(room, nick);
  try {
    return fromNative(real, rt.ctx.mappings());
  } catch {
    return undefined;
  }
}

async function presence(rt: XmppRuntime, o: Occupants, el: XmlElement, room: string, nick: string): Promise<void> {
  if (o.settle(el)) return;
  const codes = statuses(el);
  const to = el.attrs.to ?? "";
  // The self-presence of one of Parley's occupants (status 110, or its own nick): its removal
  // (kicked, banned, room destroyed) marks the room unhealthy; its own leave only forgets it.
  const self = to === o.listenerJid() ? to : to.split("/")[0]!;
  if (el.attrs.type === "unavailable" && (codes.has("110") || o.nickOf(room, self) === nick)) {
    const removal = removalOf(el);
    if (removal) await o.removed(room, self, removal);
    else await o.left(room, self);
    return;
  }
  if (to !== o.listenerJid()) return; // a copy for a puppet: only its own removal matters
  if (o.isOwnNick(room, nick)) return;
  const item = el.getChildren("x").find((c) => c.attrs.xmlns === NS_MUC_USER)?.getChild("item");
  const jids = jidsOf(o, room);
  if (el.attrs.type !== "unavailable") {
    // A non-anonymous room shows the real JID; a semi-anonymous one only the nick (the member is the occupant JID).
    const bare = item?.attrs.jid ? item.attrs.jid.split("/")[0]! : ANONYMOUS;
    if (bare !== ANONYMOUS && rt.domains.has(bare.split("@").pop()!)) return; // one of Parley's own JIDs
    const known = jids.has(nick);
    jids.set(nick, bare);
    if (known) return;
  }
  const member = memberOf(rt, o, room, nick);
  if (!member) {
    if (el.attrs.type !== "unavailable" && jids.get(nick) === ANONYMOUS) rt.log.info({ room, nick: nick.slice(0, 64) }, "an occupant whose nick makes no address (too long): not bridged");
    return;
  }
  let change: MembershipChange = "join";
  if (el.attrs.type === "unavailable") {
    change = codes.has("301") ? "ban" : codes.has("307") ? "kick" : codes.has("303") ? "rename" : "leave";
    // Known only by nick, an anonymous occupant who takes another nick is another member: the old one leaves.
    if (change === "rename" && jids.get(nick) === ANONYMOUS) change = "leave";
    if (change !== "rename") jids.delete(nick);
    else if (item?.attrs.nick) { jids.set(item.attrs.nick, jids.get(nick)!); jids.delete(nick); }
  }
  const displayName = change === "rename" ? item?.attrs.nick : nick;
  const reason = item?.getChildText("reason") ?? undefined;
  await accept(rt, room, { type: "membership", membership: {
    id: newCanonicalId(), member, change, displayName: displayName ? cleanRoomText(displayName, 256) : undefined,
    reason: reason ? cleanRoomText(reason, 1024) : undefined, authenticatedBy: AUTH, at: new Date().toISOString(),
  } });
}

/** A private message from Parley's listener to an occupant (XEP-0045 §7.5): why their groupchat was not bridged. */
async function tellOccupant(rt: XmppRuntime, o: Occupants, room: string, nick: string, text: string): Promise<void> {
  await rt.link.send(xml("message", { type: "chat", from: o.listenerJid(), to: `${room}/${nick}` }, xml("body", {}, text), xml("x", { xmlns: NS_MUC_USER })));
}

/**
 * The parts of a groupchat: its text, and the files it offers (XEP-0066 OOB, or a body that is only
 * an upload host's URL), fetched and stored as a one-to-one message's are (media/inbound.ts: the
 * sender's limits, the type from the bytes). A file not carried — over a limit, a refused type or
 * address, a failed download — leaves the message unbridged, and the occupant is told why privately.
 */
async function groupchatParts(rt: XmppRuntime, o: Occupants, el: XmlElement, at: { room: string; nick: string }, from: Endpoint, body: string): Promise<Part[] | undefined> {
  const offers = rt.ctx.media ? offeredFiles(el, [body], rt.config.uploadHosts) : [];
  if (offers.length === 0) return [{ role: "text", body }];
  try {
    const files = await fetchOffers(rt, offers, { network: XMPP, domain: domainOf(from.address) });
    return [...(bodyIsOffer(body, offers) ? [] : [{ role: "text" as const, body }]), ...files];
  } catch (e) {
    await tellOccupant(rt, o, at.room, at.nick, `⚠ Not bridged: ${isParleyError(e) ? e.message : "the file could not be fetched"}`);
    return undefined;
  }
}

async function groupchat(rt: XmppRuntime, o: Occupants, el: XmlElement, room: string, nick: string): Promise<void> {
  if (el.attrs.to !== o.listenerJid()) return;
  if (el.getChild("delay", "urn:xmpp:delay")) return; // history replayed on join: already bridged or before the link
  if (nick === "") {
    // The room itself: an XEP-0425 moderation announcement is bridged; anything else is not.
    await handleModeration(rt, el, room, (n) => (o.isOwnNick(room, n) ? "own" : memberOf(rt, o, room, n)));
    return;
  }
  if (o.isOwnNick(room, nick)) {
    await recordReflection(rt, el, room); // a puppet's groupchat: the room's stanza-id names it from now on
    return;
  }
  const from = memberOf(rt, o, room, nick);
  if (!from) {
    rt.log.info({ room, nick: nick.slice(0, 64) }, "groupchat from an occupant Parley has no presence of, or whose nick makes no address: not bridged");
    // Bad input (issue 12): the occupant hears why, privately, from Parley's listener (XEP-0045 §7.5).
    if (jidsOf(o, room).get(nick) === ANONYMOUS) {
      await tellOccupant(rt, o, room, nick, "⚠ Not bridged: in this anonymous room your nick is your address on the other networks, and it is too long for one (at most 255 bytes, escaped). Take a shorter nick.");
    }
    return;
  }
  const at = new Date().toISOString();
  const subject = el.getChild("subject");
  const body = el.getChildText("body");
  if (subject && body === null) {
    await accept(rt, room, { type: "subject", subject: { id: newCanonicalId(), by: from, subject: cleanRoomText(subject.text(), MAX_SUBJECT_CHARS), authenticatedBy: AUTH, at } });
    return;
  }
  if (await handleMucInteraction(rt, el, room, from)) return;
  if (body === null) return;
  const reply = await mucReplyOf(rt, el, room, body);
  const parts = await groupchatParts(rt, o, el, { room, nick }, from, reply.body.slice(0, rt.config.maxBodyBytes));
  if (parts === undefined) return;
  const nativeIds = el.attrs.id ? [{ network: XMPP, kind: "muc-id", id: el.attrs.id.slice(0, 1024), scope: room }] : [];
  for (const s of el.getChildren("stanza-id", NS_SID).slice(0, 2)) if (s.attrs.id && s.attrs.by === room) nativeIds.push({ network: XMPP, kind: "stanza-id", id: s.attrs.id.slice(0, 1024), scope: room });
  const hopsText = el.getChildText("hops", NS_HOPS);
  const replaceOf = el.getChild("replace", NS_CORRECT)?.attrs.id;
  const replaces = replaceOf ? (canonicalFromStanzaId(replaceOf) ?? (await rt.ctx.ids.canonicalFor({ network: XMPP, kind: "muc-id", id: replaceOf, scope: room }))) : undefined;
  const id = newCanonicalId();
  const [r] = await rt.ctx.accept([{ kind: "room", room: { network: XMPP, id: room }, activity: { type: "message", message: {
    id, nativeIds, from, authenticatedBy: AUTH, displayName: cleanRoomText(nick, 256), sentAt: at, kind: "chat",
    parts, replaces, inReplyTo: reply.inReplyTo,
    hops: hopsText !== null && /^\d{1,3}$/.test(hopsText) ? Math.min(255, Number(hopsText)) : DEFAULT_HOPS,
  } } }]);
  if (r?.status === "accepted") {
    await recordAuthor(rt, r.messageId ?? id, from);
    // Its own id (replies, reactions, XEP-0424) and the room's stanza-id (XEP-0425 moderation) name it.
    for (const native of nativeIds) await rt.ctx.ids.link(r.messageId ?? id, native);
  } else if (r?.status === "refused") rt.log.info({ room, code: r.error.code }, "groupchat refused");
}

export async function handleMucStanza(rt: XmppRuntime, o: Occupants, el: XmlElement): Promise<boolean> {
  const { room, nick } = split(el.attrs.from ?? "");
  if (!o.bridges(room)) return false;
  try {
    if (el.name === "presence") await presence(rt, o, el, room, nick);
    else if (el.name === "message" && el.attrs.type === "groupchat") await groupchat(rt, o, el, room, nick);
    else if (el.name === "message" && el.attrs.type === "error") rt.log.warn({ room, id: el.attrs.id }, "the room refused a message of Parley's");
    else return el.name !== "iq";
  } catch (e) {
    // A room reflects its traffic once and has no retry: an activity that could not be stored is lost, and said so.
    rt.log.warn({ room, stanza: el.name, id: el.attrs.id, err: isParleyError(e) ? e.code : errorMessage(e) }, "room activity could not be stored: not bridged");
  }
  return true;
}

/** The listener occupant joins every linked and open MUC room after the link is up (again: leaving first when a self-ping says it is there, for the occupant list). */
export async function joinListener(rt: XmppRuntime, o: Occupants): Promise<void> {
  const linked = (rt.ctx.mappings().rooms?.all() ?? []).flatMap((link) => link.natives.get(XMPP)?.id ?? []);
  const rooms = new Set([...linked, ...o.open]);
  try {
    await o.linkUp(rooms);
  } catch (e) {
    rt.log.warn({ err: errorMessage(e) }, "MUC occupants not read from Redis: each is checked on first use");
  }
  for (const room of rooms) {
    await o.ensure(room, o.listenerJid(), LISTENER_NICK, "parley", { roster: true }).catch((e: unknown) => rt.log.warn({ room, err: errorMessage(e) }, "listener could not join a bridged room"));
  }
}
