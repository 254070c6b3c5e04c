/**
 * IQs addressed to the component or a puppet: service discovery (XEP-0030) with the gateway
 * identity (XEP-0100 §5 habits), XEP-0199 ping, and `service-unavailable` for anything else
 * (RFC 6120 §8.4: an IQ with an unknown payload must be answered with an error).
 */
import { fromNative, parseJid, XMPP } from "./address.js";
import { xml, NS_PING, type XmlElement } from "./connection.js";
import { NS_CORRECT, NS_RECEIPTS, NS_SID } from "./outbound.js";
import { drop, replyError, type XmppRuntime } from "./stanza.js";
import { BlockingCommand, NS_BLOCKING } from "./blocking.js";
import { NS_VCARD, vcardOf } from "./vcard.js";

export const NS_DISCO_INFO = "http://jabber.org/protocol/disco#info";
export const NS_DISCO_ITEMS = "http://jabber.org/protocol/disco#items";
/** XEP-0106 §5: a service that supports JID escaping advertises this feature. */
export const FEATURE_JID_ESCAPING = "jid\\20escaping";

const COMPONENT_FEATURES = [NS_DISCO_INFO, NS_DISCO_ITEMS, NS_PING, NS_RECEIPTS, NS_CORRECT, NS_SID, FEATURE_JID_ESCAPING];
const PUPPET_FEATURES = [NS_DISCO_INFO, NS_PING, NS_RECEIPTS, NS_CORRECT, NS_SID, NS_VCARD];

function result(el: XmlElement, ...children: XmlElement[]): XmlElement {
  return xml("iq", { type: "result", id: el.attrs.id, from: el.attrs.to, to: el.attrs.from }, ...children);
}

/** The foreign network a component domain carries, for the gateway identity's type. */
function networkOfDomain(rt: XmppRuntime, domain: string): string {
  const m = rt.ctx.mappings();
  const shared = m.networks.get(XMPP)?.sharedDomains;
  for (const [net, d] of Object.entries(shared ?? {})) if (d === domain) return net;
  for (const d of m.domains.values()) if ((d.appearsOn.get(XMPP) as { componentDomain?: string } | undefined)?.componentDomain === domain) return d.home;
  return "parley";
}

function infoQuery(rt: XmppRuntime, el: XmlElement, toDomainOnly: boolean): XmlElement {
  const to = parseJid(el.attrs.to ?? "");
  const node = el.getChild("query", NS_DISCO_INFO)?.attrs.node;
  const identity = toDomainOnly
    ? xml("identity", { category: "gateway", type: networkOfDomain(rt, to.domain), name: rt.config.name })
    : xml("identity", { category: "client", type: "pc", name: el.attrs.to });
  const names = toDomainOnly ? [...COMPONENT_FEATURES, ...(rt.ctx.blocks ? [NS_BLOCKING] : [])] : PUPPET_FEATURES;
  const features = names.map((f) => xml("feature", { var: f }));
  return xml("query", { xmlns: NS_DISCO_INFO, node }, identity, ...features);
}

export async function handleIq(rt: XmppRuntime, el: XmlElement, blocking?: BlockingCommand): Promise<void> {
  const type = el.attrs.type;
  if (type === "result" || type === "error") return; // answers to nothing pending: ignore (RFC 6120 §8.2.3)
  if (type !== "get" && type !== "set") {
    await replyError(rt, el, { type: "modify", condition: "bad-request", text: "iq type must be get, set, result or error" });
    return;
  }
  const payload = el.getChildElements();
  if (payload.length !== 1 || el.attrs.id === undefined) {
    await replyError(rt, el, { type: "modify", condition: "bad-request", text: "an iq get/set has exactly one child and an id (RFC 6120 §8.2.3)" });
    return;
  }
  if (!el.attrs.from || !el.attrs.to) {
    drop(rt, el, "iq without from or to");
    return;
  }
  let to: ReturnType<typeof parseJid>;
  try {
    to = parseJid(el.attrs.to);
  } catch {
    await replyError(rt, el, { type: "modify", condition: "jid-malformed", text: "bad recipient JID" });
    return;
  }
  const domainOnly = to.local === "";
  if (!domainOnly) {
    try {
      if (fromNative(el.attrs.to, rt.ctx.mappings()).network === XMPP) throw new Error("not a puppet");
    } catch {
      await replyError(rt, el, { type: "cancel", condition: "item-not-found", text: `${el.attrs.to.slice(0, 200)} is not a bridged user` });
      return;
    }
  }
  const child = payload[0]!;
  const ns = child.attrs.xmlns;
  if (type === "get" && child.name === "ping" && ns === NS_PING) return void (await rt.link.send(result(el)));
  if (type === "get" && child.name === "query" && ns === NS_DISCO_INFO) return void (await rt.link.send(result(el, infoQuery(rt, el, domainOnly))));
  if (type === "get" && child.name === "query" && ns === NS_DISCO_ITEMS) return void (await rt.link.send(result(el, xml("query", { xmlns: NS_DISCO_ITEMS }))));
  if (domainOnly && blocking && BlockingCommand.handles(child)) return blocking.handle(el, child);
  if (!domainOnly && type === "get" && child.name === "vCard" && ns === NS_VCARD) {
    const who = fromNative(el.attrs.to, rt.ctx.mappings());
    return void (await rt.link.send(result(el, vcardOf(who, await rt.ctx.profiles?.profileOf(who)))));
  }
  await replyError(rt, el, { type: "cancel", condition: "service-unavailable", text: `${child.name.slice(0, 50)} in ${(ns ?? "no namespace").slice(0, 100)} is not supported` });
}
