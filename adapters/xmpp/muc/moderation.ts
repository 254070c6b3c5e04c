/**
 * XEP-0425 message moderation in linked MUC rooms (issue 18), as Prosody's `mod_muc_moderation`
 * (Debian prosody-modules 0.0~hg20230223) implements it: XEP-0425 0.2, namespace
 * `urn:xmpp:message-moderate:0` inside an XEP-0422 `<apply-to/>` fastening. A room message is named
 * by the XEP-0359 stanza-id the room assigned it (its MAM archive id, `<stanza-id by='room'>`):
 * Parley records it for every bridged room message, those it receives and the reflections of those
 * its puppets send. Announcements of the later XEP-0425 (`urn:xmpp:message-moderate:1` inside a
 * `<retract xmlns='urn:xmpp:message-retract:1'/>`) are read too.
 *
 * In: the room announces that a moderator retracted a message → a room retraction with
 * `moderation` (the room checked the moderator's role). Out: a moderator elsewhere retracted a room
 * message → an XEP-0425 request to the room from an occupant that is a moderator there: the
 * moderator's puppet, else Parley's listener occupant (if the room's admin made it one).
 */
import { DeliveryError, type DeliveryOutcome } from "../../../src/adapter/contract.js";
import type { Endpoint } from "../../../src/model/address.js";
import { newCanonicalId, type CanonicalId } from "../../../src/model/ids.js";
import { DEFAULT_HOPS } from "../../../src/model/message.js";
import { cleanRoomText, type RoomMessage } from "../../../src/model/room-events.js";
import { XMPP } from "../address.js";
import { xml, type XmlElement } from "../connection.js";
import { errorMessage } from "../../../src/errors/message.js";
import { NS_SID, canonicalFromStanzaId } from "../ids.js";
import type { XmppRuntime } from "../stanza.js";
import { NS_RETRACT } from "../features/refs.js";
import { roomMessageRef } from "./features.js";

export const NS_FASTEN = "urn:xmpp:fasten:0";
export const NS_MODERATE = "urn:xmpp:message-moderate:0";
export const NS_MODERATE_1 = "urn:xmpp:message-moderate:1";
/** The retraction namespace XEP-0425 0.2 nests in its moderation (XEP-0424 0.2). */
export const NS_RETRACT_0 = "urn:xmpp:message-retract:0";

const AUTH = { method: "network" as const, detail: "MUC room on the XMPP server (XEP-0425 announcement; the room checks the moderator's role)" };
const NOTHING: DeliveryOutcome = { state: "relayed", nativeIds: [] };

/** The room's own XEP-0359 stanza-id on a groupchat it reflected (`by` is the room), or undefined. */
export function roomStanzaId(el: XmlElement, room: string): string | undefined {
  const sid = el.getChildren("stanza-id", NS_SID).find((s) => s.attrs.id && (s.attrs.by ?? "").toLowerCase() === room);
  return sid?.attrs.id?.slice(0, 1024);
}

/**
 * The room's reflection of a groupchat one of Parley's puppets sent (`id` = `parley-<canonical id>`):
 * record the stanza-id the room gave it, the id a moderator names it by.
 */
export async function recordReflection(rt: XmppRuntime, el: XmlElement, room: string): Promise<void> {
  const id = el.attrs.id ? canonicalFromStanzaId(el.attrs.id) : undefined;
  const sid = roomStanzaId(el, room);
  if (id === undefined || sid === undefined) return;
  await rt.ctx.ids.link(id, { network: XMPP, kind: "stanza-id", id: sid, scope: room });
}

interface Announcement {
  /** The stanza-id of the moderated message. */
  readonly target: string;
  /** The moderator's occupant JID (`room/nick`), as the room names them. */
  readonly by: string | undefined;
  readonly reason: string | undefined;
}

/** A moderation announcement (XEP-0425 0.2 or 0.3) that retracts a message, or undefined. */
export function announcementOf(el: XmlElement): Announcement | undefined {
  const applyTo = el.getChild("apply-to", NS_FASTEN);
  const moderated0 = applyTo?.getChild("moderated", NS_MODERATE);
  if (applyTo?.attrs.id && moderated0?.getChild("retract", NS_RETRACT_0)) {
    return { target: applyTo.attrs.id, by: moderated0.attrs.by, reason: moderated0.getChildText("reason") ?? undefined };
  }
  const retract = el.getChild("retract", NS_RETRACT);
  const moderated1 = retract?.getChild("moderated", NS_MODERATE_1);
  if (retract?.attrs.id && moderated1) return { target: retract.attrs.id, by: moderated1.attrs.by, reason: retract.getChildText("reason") ?? undefined };
  return undefined;
}

/**
 * A groupchat from the room itself announcing a moderation: the moderated message is retracted in
 * the other rooms of the link, by the moderator (`moderatorOf` names their real JID from their
 * occupant nick; undefined for Parley's own occupants, whose moderations are echoes). True when
 * the stanza was an announcement (handled here whole).
 */
export async function handleModeration(rt: XmppRuntime, el: XmlElement, room: string, moderatorOf: (nick: string) => Endpoint | "own" | undefined): Promise<boolean> {
  const a = announcementOf(el);
  if (a === undefined) return false;
  const nick = a.by?.startsWith(`${room}/`) === true || a.by?.toLowerCase().startsWith(`${room}/`) === true ? a.by.slice(room.length + 1) : undefined;
  const by = nick === undefined ? undefined : moderatorOf(nick);
  if (by === "own") return true; // Parley moderated it for a moderator elsewhere
  const target = await roomMessageRef(rt, room, a.target.slice(0, 1024));
  if (by === undefined || target === undefined) {
    rt.log.info({ room, id: a.target.slice(0, 64), known: target !== undefined, moderator: by !== undefined }, "moderation of a room message Parley does not know, or by a moderator whose real JID the room does not show: not bridged");
    return true;
  }
  const reason = a.reason ? cleanRoomText(a.reason, 1024) : undefined;
  const [r] = await rt.ctx.accept([{ kind: "room", room: { network: XMPP, id: room }, activity: { type: "message", message: {
    id: newCanonicalId(), from: by, authenticatedBy: AUTH, sentAt: new Date().toISOString(), kind: "chat",
    nativeIds: el.attrs.id ? [{ network: XMPP, kind: "muc-id", id: `${el.attrs.id.slice(0, 1000)}.moderate`, scope: room }] : [],
    parts: [{ role: "text", body: "(message moderated)" }], retracts: target, moderation: reason ? { reason } : {}, hops: DEFAULT_HOPS,
  } } }]);
  if (r?.status === "refused") rt.log.info({ room, code: r.error.code, err: r.error.message }, "room moderation refused");
  return true;
}

function iqCondition(res: XmlElement): string {
  return res.getChild("error")?.getChildElements().find((c) => c.attrs.xmlns === "urn:ietf:params:xml:ns:xmpp-stanzas" && c.name !== "text")?.name ?? "undefined-condition";
}

/**
 * A moderator's retraction from another network, as XEP-0425 requests to the room: first from the
 * moderator's puppet, then from Parley's listener occupant; the room decides by their role. When
 * neither may (or the room has no XEP-0425, or never gave the message a stanza-id) it is dropped
 * with `feature-dropped` and fails for good, so the moderator is told and the failure counted.
 */
export async function moderateInMuc(rt: XmppRuntime, room: string, puppet: string, listener: string, m: RoomMessage & { retracts: CanonicalId }): Promise<DeliveryOutcome> {
  const sid = await rt.ctx.ids.nativeFor(m.retracts, XMPP, "stanza-id");
  const drop = (why: string, detail?: string): never => {
    rt.log.info({ event: "feature-dropped", feature: "moderation", messageId: m.id, network: XMPP, room, from: m.from.address, detail }, `moderation not shown in the MUC room: ${why}`);
    throw new DeliveryError("permanent", "refused-by-policy", `the message could not be moderated in ${room}: ${why}`, detail ? { nativeDetail: detail } : {});
  };
  if (sid?.scope !== room) {
    if (await rt.ctx.ids.nativeFor(m.retracts, XMPP, "muc-id") === undefined) {
      rt.log.info({ messageId: m.id, target: m.retracts, room }, "the room message it moderates never reached this MUC room: nothing to show");
      return NOTHING;
    }
    return drop("the room gave the message no stanza-id (it needs MAM, muc_mam, and XEP-0425, mod_muc_moderation)");
  }
  const reason = m.moderation?.reason;
  const request = (from: string) => xml("iq", { type: "set", from, to: room },
    xml("apply-to", { xmlns: NS_FASTEN, id: sid.id },
      xml("moderate", { xmlns: NS_MODERATE }, xml("retract", { xmlns: NS_RETRACT_0 }), ...(reason ? [xml("reason", {}, reason)] : []))));
  const refusals: string[] = [];
  for (const from of [puppet, listener]) {
    let res: XmlElement;
    try {
      res = await rt.link.request(request(from));
    } catch (e) {
      throw new DeliveryError("transient", "timeout", `the room ${room} did not answer the moderation: ${errorMessage(e)}`, { cause: e });
    }
    if (res.attrs.type === "result") return NOTHING;
    const condition = iqCondition(res);
    refusals.push(`${from}: ${condition}`);
    if (condition !== "forbidden" && condition !== "not-allowed") break; // not a matter of role: the next occupant fares no better
  }
  return drop(refusals.some((r) => r.endsWith("forbidden")) && refusals.length === 2
    ? "neither the moderator's puppet nor Parley's occupant is a moderator in the room"
    : "the room refused XEP-0425 moderation (is mod_muc_moderation loaded?)", refusals.join("; "));
}
