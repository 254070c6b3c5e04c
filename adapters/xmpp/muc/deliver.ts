/**
 * Room activity out to a linked MUC room (XEP-0045 §7.4 groupchat messages, §8.1 subject, §7.14
 * exit), sent by the acting member's puppet. Every groupchat Parley sends carries the id
 * `parley-<canonical id>` as `id` and XEP-0359 origin-id, so the room's reflection of it is
 * recognised by id when it comes back, never by its text.
 */
import { DeliveryError, type DeliveryOutcome } from "../../../src/adapter/contract.js";
import type { RoomTypingNotice } from "../../../src/adapter/features.js";
import { isParleyError } from "../../../src/errors/parley-error.js";
import type { Endpoint } from "../../../src/model/address.js";
import { activityActor, type RoomDelivery } from "../../../src/model/room-events.js";
import { XMPP, parseJid, toNative } from "../address.js";
import { xml } from "../connection.js";
import type { XmppRuntime } from "../stanza.js";
import { NS_CORRECT, NS_HOPS, NS_SID, stanzaIdFor } from "../outbound.js";
import { LISTENER_NICK, nickFor, type Occupants } from "./occupants.js";
import { errorMessage } from "../../../src/errors/message.js";
import { moderateInMuc } from "./moderation.js";
import { filesOf, oobElements, type FileBody } from "../media/outbound.js";
import { mucBodies } from "./files-out.js";
import { deliverMucDisplayed, deliverMucTyping, mucFeatureChildren, mucIdOf } from "./features-out.js";

function puppetJid(rt: XmppRuntime, who: Endpoint): string {
  let jid: string;
  try {
    jid = toNative(who, rt.ctx.mappings());
  } catch (e) {
    if (isParleyError(e)) throw new DeliveryError("permanent", e.info.reason, e.message, { cause: e });
    throw e;
  }
  if (!rt.domains.has(parseJid(jid).domain)) throw new DeliveryError("permanent", "unsupported", `no component link for ${parseJid(jid).domain}`);
  return jid;
}

export async function deliverToMuc(rt: XmppRuntime, occupants: Occupants, delivery: RoomDelivery): Promise<DeliveryOutcome> {
  const { activity, target } = delivery;
  const room = target.id;
  if (activity.type === "membership") {
    const m = activity.membership;
    const jid = puppetJid(rt, m.member);
    if (m.change === "join" || m.change === "rename") await occupants.ensure(room, jid, nickFor(m.displayName, m.member.address.split("@")[0]!), m.member.network);
    else await occupants.leave(room, jid);
    return { state: "relayed", nativeIds: [] };
  }
  const actor = activityActor(activity);
  const jid = puppetJid(rt, actor);
  if (activity.type === "displayed") {
    await deliverMucDisplayed(rt, jid, occupants.nickOf(room, jid), room, activity.displayed.target);
    return { state: "relayed", nativeIds: [] };
  }
  if (activity.type === "message" && activity.message.moderation !== undefined && activity.message.retracts !== undefined) {
    // XEP-0425: the room retracts it; the puppet needs no seat to ask (the room decides by role).
    return moderateInMuc(rt, room, jid, occupants.listenerJid(), { ...activity.message, retracts: activity.message.retracts });
  }
  const display = activity.type === "message" ? activity.message.displayName : undefined;
  if (occupants.listenerOut(room)) {
    // The listener was removed (kicked, or the room destroyed): bring it back first, so the room's traffic is bridged again (best effort).
    await occupants.ensure(room, occupants.listenerJid(), LISTENER_NICK, "parley", { roster: true }).catch((e: unknown) => rt.log.warn({ room, err: errorMessage(e) }, "listener could not join the room again"));
    // A destroyed room is not made again by a puppet's join: the sender is told.
    if (occupants.problemOf(room)?.reason === "destroyed" && occupants.listenerOut(room)) throw new DeliveryError("permanent", "refused-by-policy", `the XMPP room ${room} was destroyed`, { nativeDetail: "destroyed" });
  }
  if (occupants.nickOf(room, jid) === undefined) await occupants.ensure(room, jid, nickFor(display, actor.address.split("@")[0]!), actor.network);
  const id = stanzaIdFor(activity.type === "message" ? activity.message.id : activity.subject.id);
  if (activity.type === "subject") {
    await rt.link.send(xml("message", { type: "groupchat", from: jid, to: room, id }, xml("subject", {}, activity.subject.subject)));
    return { state: "relayed", nativeIds: [{ network: XMPP, kind: "muc-id", id, scope: room }] };
  }
  const m = activity.message;
  const features = await mucFeatureChildren(rt, m, jid, room);
  // Files go as links on Parley's media listener under the XMPP limits of the room's service domain (files-out.ts).
  const bodies: Array<FileBody | undefined> = features.content ? mucBodies(m, filesOf(rt, m, parseJid(room).domain)) : [undefined];
  const replace = m.replaces ? xml("replace", { xmlns: NS_CORRECT, id: await mucIdOf(rt, m.replaces) }) : undefined;
  for (const [i, b] of bodies.entries()) {
    const sid = i === 0 ? id : `${id}-${i}`;
    const children = [
      ...(b ? [xml("body", {}, b.body), ...(b.file ? oobElements([b.file]) : [])] : []),
      ...(i === 0 ? features.children : []), xml("origin-id", { xmlns: NS_SID, id: sid }), xml("hops", { xmlns: NS_HOPS }, String(m.hops)),
      ...(i === 0 && replace ? [replace] : []),
    ];
    await rt.link.send(xml("message", { type: "groupchat", from: jid, to: room, id: sid }, ...children));
  }
  return { state: "relayed", nativeIds: [{ network: XMPP, kind: "muc-id", id, scope: room }] };
}

/** A member's typing in a linked MUC room (issue 18 in rooms, best effort). */
export async function typingToMuc(rt: XmppRuntime, occupants: Occupants, n: RoomTypingNotice): Promise<void> {
  const jid = puppetJid(rt, n.from);
  await deliverMucTyping(rt, jid, occupants.nickOf(n.room.id, jid), n);
}
