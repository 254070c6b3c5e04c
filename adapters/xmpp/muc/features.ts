/**
 * Everyday chat features from occupants of linked MUC rooms (issue 18 in rooms): reactions
 * (XEP-0444), retractions of one's own message (XEP-0424), replies (XEP-0461 with the XEP-0428
 * fallback cut out), chat states (XEP-0085) and displayed markers (XEP-0333) in groupchat. A message of the room is named by the
 * id the room showed it with (its `id`, Parley's `parley-<canonical id>`, or the room's XEP-0359
 * stanza-id), looked up in the id map under the room's scope.
 */
import { endpointKey, type Endpoint } from "../../../src/model/address.js";
import { newCanonicalId, type CanonicalId } from "../../../src/model/ids.js";
import { ChatStateSchema, type Reaction } from "../../../src/model/interactions.js";
import { DEFAULT_HOPS } from "../../../src/model/message.js";
import type { RoomActivityInput } from "../../../src/model/room-events.js";
import { XMPP } from "../address.js";
import type { XmlElement } from "../connection.js";
import { NS_HOPS, canonicalFromStanzaId } from "../ids.js";
import type { XmppRuntime } from "../stanza.js";
import { NS_CHATSTATES, NS_FALLBACK, NS_MARKERS, NS_REACTIONS, NS_REPLY, NS_RETRACT } from "../features/refs.js";

const AUTH = { method: "network" as const, detail: "MUC room on the XMPP server (XEP-0045 occupant real JID)" };
const MAX_KEYS = 20;
const TTL_SECONDS = 30 * 24 * 3600;

/** The canonical message a room stanza id names: one Parley sent, or one the room reflected from an occupant. */
export async function roomMessageRef(rt: XmppRuntime, room: string, id: string): Promise<CanonicalId | undefined> {
  const native = id.slice(0, 1024);
  return canonicalFromStanzaId(native)
    ?? (await rt.ctx.ids.canonicalFor({ network: XMPP, kind: "muc-id", id: native, scope: room }))
    ?? rt.ctx.ids.canonicalFor({ network: XMPP, kind: "stanza-id", id: native, scope: room });
}

/** Who wrote a room message that came from this room (XEP-0424: only they may retract it). */
export async function recordAuthor(rt: XmppRuntime, id: CanonicalId, from: Endpoint): Promise<void> {
  await rt.ctx.state.set(`muc-by:${id}`, endpointKey(from), TTL_SECONDS);
}

async function acceptAll(rt: XmppRuntime, room: string, activities: readonly RoomActivityInput[]): Promise<boolean> {
  if (activities.length === 0) return true;
  const results = await rt.ctx.accept(activities.map((activity) => ({ kind: "room" as const, room: { network: XMPP, id: room }, activity })));
  const refusal = results.find((r) => r.status === "refused");
  if (refusal?.status === "refused") rt.log.info({ room, code: refusal.error.code, err: refusal.error.message }, "room feature refused");
  return refusal === undefined;
}

function interaction(el: XmlElement, room: string, from: Endpoint, body: string, extra: { reaction: Reaction } | { retracts: CanonicalId }): RoomActivityInput {
  const hopsText = el.getChildText("hops", NS_HOPS);
  return { type: "message", message: {
    id: newCanonicalId(), from, authenticatedBy: AUTH, sentAt: new Date().toISOString(), kind: "chat",
    nativeIds: el.attrs.id ? [{ network: XMPP, kind: "muc-id", id: `${el.attrs.id.slice(0, 1000)}.${"reaction" in extra ? extra.reaction.key : "retract"}`, scope: room }] : [],
    parts: [{ role: "text", body }], ...extra,
    hops: hopsText !== null && /^\d{1,3}$/.test(hopsText) ? Math.min(255, Number(hopsText)) : DEFAULT_HOPS,
  } };
}

/** XEP-0444 §3: the stanza carries the occupant's whole set on the message; each key added or removed is one change. */
async function reactions(rt: XmppRuntime, el: XmlElement, room: string, from: Endpoint, r: XmlElement): Promise<void> {
  const target = r.attrs.id ? await roomMessageRef(rt, room, r.attrs.id) : undefined;
  if (target === undefined) {
    rt.log.info({ room, id: r.attrs.id }, "reaction to a room message Parley does not know: not bridged");
    return;
  }
  const keys = [...new Set(r.getChildren("reaction").map((k) => k.text().trim()).filter((k) => k !== "" && k.length <= 64))].slice(0, MAX_KEYS);
  const stateKey = `rx-in:${room}:${endpointKey(from)}:${target}`;
  const before = JSON.parse((await rt.ctx.state.get(stateKey)) ?? "[]") as string[];
  const change = (key: string, op: Reaction["op"]) => interaction(el, room, from, key, { reaction: { target, key, op } });
  const activities = [...keys.filter((k) => !before.includes(k)).map((k) => change(k, "add")), ...before.filter((k) => !keys.includes(k)).map((k) => change(k, "remove"))];
  if (await acceptAll(rt, room, activities)) await rt.ctx.state.set(stateKey, JSON.stringify(keys), TTL_SECONDS);
}

/** XEP-0424: an occupant retracts only a message the room showed from them (Prosody does not check it: Parley does). */
async function retraction(rt: XmppRuntime, el: XmlElement, room: string, from: Endpoint, r: XmlElement): Promise<void> {
  const target = r.attrs.id ? await roomMessageRef(rt, room, r.attrs.id) : undefined;
  const author = target ? await rt.ctx.state.get(`muc-by:${target}`) : undefined;
  if (target === undefined || author !== endpointKey(from)) {
    rt.log.info({ room, id: r.attrs.id, known: target !== undefined }, "retraction of a room message that is not the occupant's own (or unknown): not bridged");
    return;
  }
  await acceptAll(rt, room, [interaction(el, room, from, "(message retracted)", { retracts: target })]);
}

/** XEP-0333 in groupchat: the occupant displayed a room message; shown as their puppet's read marker elsewhere. */
async function displayed(rt: XmppRuntime, room: string, by: Endpoint, marker: XmlElement): Promise<void> {
  const target = marker.attrs.id ? await roomMessageRef(rt, room, marker.attrs.id) : undefined;
  if (target === undefined) return;
  await acceptAll(rt, room, [{ type: "displayed", displayed: { id: newCanonicalId(), by, target, authenticatedBy: AUTH, at: new Date().toISOString() } }]);
}

/**
 * A groupchat that is a reaction, a retraction or a bare chat state is handled here whole; false
 * for a message with content (which may still be a reply, see {@link mucReplyOf}).
 */
export async function handleMucInteraction(rt: XmppRuntime, el: XmlElement, room: string, from: Endpoint): Promise<boolean> {
  const r = el.getChild("reactions", NS_REACTIONS);
  if (r) {
    await reactions(rt, el, room, from, r);
    return true;
  }
  const retract = el.getChild("retract", NS_RETRACT);
  if (retract) {
    await retraction(rt, el, room, from, retract);
    return true;
  }
  if (el.getChild("body") !== undefined) return false;
  const marker = el.getChild("displayed", NS_MARKERS);
  if (marker) {
    await displayed(rt, room, from, marker);
    return true;
  }
  const state = ChatStateSchema.safeParse(el.getChildElements().find((c) => c.attrs.xmlns === NS_CHATSTATES)?.name);
  if (!state.success) return false;
  await rt.ctx.accept([{ kind: "room-typing", room: { network: XMPP, id: room }, from, state: state.data, authenticatedBy: AUTH }]);
  return true;
}

/** XEP-0461 §3 in a room: the message replied to, and the body with the XEP-0428 fallback (the quote) cut out. */
export async function mucReplyOf(rt: XmppRuntime, el: XmlElement, room: string, body: string): Promise<{ inReplyTo: CanonicalId | undefined; body: string }> {
  const reply = el.getChild("reply", NS_REPLY);
  if (!reply?.attrs.id) return { inReplyTo: undefined, body };
  const inReplyTo = await roomMessageRef(rt, room, reply.attrs.id);
  const fallback = el.getChildren("fallback", NS_FALLBACK).find((f) => f.attrs.for === NS_REPLY)?.getChild("body");
  const start = Number(fallback?.attrs.start);
  const end = Number(fallback?.attrs.end);
  const chars = [...body]; // XEP-0426: offsets count Unicode code points
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end <= start || end > chars.length) return { inReplyTo, body };
  return { inReplyTo, body: [...chars.slice(0, start), ...chars.slice(end)].join("") };
}
