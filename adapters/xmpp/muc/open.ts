/**
 * Open MUC rooms (issue 12, docs/rooms.md "Open rooms"): a Matrix user asks for a MUC room by
 * alias and no admin linked it. Before a portal is made, Parley asks the room itself (XEP-0045
 * §6.4, disco#info): it must exist, be a MUC room, and take Parley's occupants — not members-only
 * (`muc_membersonly`), not password-protected (`muc_passwordprotected`), and show its occupants'
 * real JIDs (`muc_nonanonymous`, as for linked rooms: messages are bridged from real JIDs). Then
 * the listener occupant joins and the room's traffic is bridged like a linked room's.
 */
import { ParleyError } from "../../../src/errors/parley-error.js";
import { errorMessage } from "../../../src/errors/message.js";
import { XMPP } from "../address.js";
import { xml } from "../connection.js";
import type { XmppRuntime } from "../stanza.js";
import { LISTENER_NICK, type Occupants } from "./occupants.js";

export const NS_DISCO_INFO = "http://jabber.org/protocol/disco#info";

/** Why a room's disco#info makes it unfit for an open room; undefined when it is fit. */
export function unfitRoom(features: ReadonlySet<string>, categories: ReadonlySet<string>): ParleyError | undefined {
  if (!categories.has("conference")) return new ParleyError("PARLEY_ADDRESS_UNKNOWN", "the address is not a MUC room");
  if (features.has("muc_membersonly")) return new ParleyError("PARLEY_REFUSED", "the room is members-only");
  if (features.has("muc_passwordprotected")) return new ParleyError("PARLEY_REFUSED", "the room needs a password");
  if (!features.has("muc_nonanonymous")) return new ParleyError("PARLEY_REFUSED", "the room does not show its occupants' real JIDs (make it non-anonymous)");
  return undefined;
}

/** Ask the room (disco#info from the component's domain) whether it can be opened; throws ParleyError when not. */
export async function checkMucRoom(rt: XmppRuntime, room: string): Promise<void> {
  const from = [...rt.domains][0]!;
  let answer;
  try {
    answer = await rt.link.request(xml("iq", { type: "get", from, to: room }, xml("query", { xmlns: NS_DISCO_INFO })));
  } catch (e) {
    throw new ParleyError("PARLEY_UNAVAILABLE", `the XMPP server did not answer about ${room}: ${errorMessage(e)}`, {}, { cause: e });
  }
  if (answer.attrs.type === "error") {
    const condition = answer.getChild("error")?.getChildElements()[0]?.name ?? "undefined-condition";
    rt.log.info({ room, condition }, "open room refused: the room's disco#info is an error");
    throw new ParleyError("PARLEY_ADDRESS_UNKNOWN", condition === "item-not-found" ? "the room does not exist" : `the room's server answered ${condition}`);
  }
  const query = answer.getChild("query", NS_DISCO_INFO);
  const features = new Set((query?.getChildren("feature") ?? []).map((f) => f.attrs.var ?? ""));
  const categories = new Set((query?.getChildren("identity") ?? []).map((i) => i.attrs.category ?? ""));
  const unfit = unfitRoom(features, categories);
  if (unfit) {
    rt.log.info({ room, reason: unfit.message }, "open room refused");
    throw unfit;
  }
}

/** The listener occupant joins an opened room; from then on its traffic is bridged. */
export async function listenToMucRoom(rt: XmppRuntime, o: Occupants, room: string): Promise<void> {
  o.open.add(room);
  try {
    await o.ensure(room, o.listenerJid(), LISTENER_NICK, "parley");
  } catch (e) {
    o.open.delete(room);
    throw new ParleyError("PARLEY_REFUSED", `the room did not take Parley's listener: ${errorMessage(e)}`, {}, { cause: e });
  }
}

/** The open rooms this gateway bridges, read back at start (a restart keeps them). */
export async function loadOpenRooms(rt: XmppRuntime, o: Occupants): Promise<void> {
  try {
    for (const r of (await rt.ctx.rooms?.list(XMPP)) ?? []) {
      const native = r.natives.get(XMPP);
      if (native) o.open.add(native.id);
    }
  } catch (e) {
    rt.log.warn({ err: errorMessage(e) }, "open rooms not read; they are bridged again once Redis answers and the adapter restarts");
  }
}
