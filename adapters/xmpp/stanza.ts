/**
 * What the inbound, outbound and presence modules share: the runtime they act through, stanza
 * error replies (RFC 6120 §8.3), and sender/recipient resolution for stanzas arriving from the
 * server (RFC 6120 §8.1.2: the server stamps `from` on the component link).
 */
import type { AdapterContext } from "../../src/adapter/contract.js";
import type { Endpoint } from "../../src/model/address.js";
import type { Logger } from "../../src/log/logger.js";
import { isParleyError, ParleyError } from "../../src/errors/parley-error.js";
import { fromNative, parseJid, sharedFormAllowed, toNative, XMPP } from "./address.js";
import type { XmppConfig } from "./config.js";
import { xml, type ComponentLink, type XmlElement } from "./connection.js";
import { NS_STANZAS, errorFor, type StanzaErrorSpec } from "./errors.js";
import { errorMessage } from "../../src/errors/message.js";
import type { RecentContacts } from "./recent-contacts.js";
import type { ConfirmedSends } from "../../src/adapter/confirmed-sends.js";

export interface XmppRuntime {
  readonly ctx: AdapterContext;
  readonly link: ComponentLink;
  readonly config: XmppConfig;
  readonly log: Logger;
  /** Component domains served by this adapter. */
  readonly domains: ReadonlySet<string>;
  /** Who had bridged activity lately (recent-contacts.ts): told after a link holder's crash. */
  readonly contacts?: RecentContacts;
  /** Messages the server confirmed here (src/adapter/confirmed-sends.ts): a job re-run after a failed marker write does not send them again. */
  readonly confirmed?: ConfirmedSends;
}

/** Stream namespaces a top-level stanza may carry (RFC 6120 §4.8.2; XEP-0114 §2). */
export const STANZA_NAMESPACES = new Set(["jabber:component:accept", "jabber:client", "jabber:server"]);

export function errorElement(spec: StanzaErrorSpec): XmlElement {
  return xml("error", { type: spec.type },
    xml(spec.condition, { xmlns: NS_STANZAS }),
    xml("text", { xmlns: NS_STANZAS, "xml:lang": "en" }, spec.text));
}

/**
 * Answer a stanza with an error of the same kind (RFC 6120 §8.2: swap from/to, keep id). Never
 * answers an error with an error (RFC 6120 §8.3.1), and only from a domain this adapter serves.
 */
export async function replyError(
  rt: XmppRuntime, head: { name: string; attrs: Readonly<Record<string, string | undefined>> }, spec: StanzaErrorSpec,
): Promise<void> {
  const { from, to, id, type } = head.attrs;
  if (type === "error" || from === undefined || to === undefined || !["message", "presence", "iq"].includes(head.name)) {
    rt.log.info({ stanza: head.name, condition: spec.condition }, "stanza refused without reply (no addressable sender)");
    return;
  }
  let toDomain = "";
  let toLocal = "";
  try {
    ({ domain: toDomain, local: toLocal } = parseJid(to));
  } catch {
    // answered from a domain of ours below
  }
  // Reply from the JID the sender used when the server will take it back as a from; a localpart
  // with controls or format characters (which stringprep refuses) is answered from the bare domain.
  const replyFrom = rt.domains.has(toDomain) ? (/[\p{C}\p{Z}]/u.test(toLocal) ? toDomain : to) : [...rt.domains][0];
  if (replyFrom === undefined) return;
  const el = xml(head.name, { type: "error", from: replyFrom, to: from, id }, errorElement(spec));
  rt.log.info({ stanza: head.name, condition: spec.condition, to: from, id }, "stanza error sent");
  try {
    await rt.link.send(el);
  } catch (e) {
    rt.log.warn({ err: errorMessage(e) }, "could not send stanza error");
  }
}

/** Log and drop: for stanzas whose sender cannot be trusted or answered (spoofed, malformed from). */
export function drop(rt: XmppRuntime, el: XmlElement | { name: string; attrs: Readonly<Record<string, string | undefined>> }, why: string): void {
  rt.log.warn({ event: "stanza-dropped", stanza: el.name, id: el.attrs.id, reason: why }, "stanza dropped");
}

export interface Parties {
  readonly sender: Endpoint;
  readonly senderJid: string;
  readonly senderBare: string;
  readonly recipient: Endpoint;
  readonly recipientJid: string;
}

/**
 * Who sent a stanza and to whom, or undefined after dropping or answering it. The sender must be
 * an XMPP user (not one of Parley's own domains: that would be a spoof of a puppet); the recipient
 * must map to a foreign endpoint the policy lets XMPP reach (else item-not-found).
 */
export async function resolveParties(rt: XmppRuntime, el: XmlElement): Promise<Parties | undefined> {
  const from = el.attrs.from;
  const to = el.attrs.to;
  if (from === undefined || to === undefined) {
    drop(rt, el, "missing from or to");
    return undefined;
  }
  let sender: Endpoint;
  let senderBare: string;
  try {
    const j = parseJid(from);
    if (rt.domains.has(j.domain)) {
      drop(rt, el, "from names one of Parley's own component domains (spoofed)");
      return undefined;
    }
    sender = fromNative(from, rt.ctx.mappings());
    senderBare = j.local === "" ? j.domain : `${j.local}@${j.domain}`;
  } catch (e) {
    drop(rt, el, `from is not an XMPP user: ${errorMessage(e)}`);
    return undefined;
  }
  if (sender.network !== XMPP) {
    drop(rt, el, "from claims a user of another network (spoofed)");
    return undefined;
  }
  let recipient: Endpoint;
  try {
    recipient = fromNative(to, rt.ctx.mappings());
    if (recipient.network === XMPP) throw new ParleyError("PARLEY_ADDRESS_UNKNOWN", `${to} is not a bridged user`);
    if (!sharedFormAllowed(recipient, rt.ctx.mappings())) throw new ParleyError("PARLEY_ADDRESS_UNKNOWN", `${to} is not reachable from XMPP`);
  } catch (e) {
    const err = isParleyError(e) ? e : new ParleyError("PARLEY_ADDRESS_INVALID", errorMessage(e));
    await replyError(rt, el, errorFor(err));
    return undefined;
  }
  return { sender, senderJid: from, senderBare, recipient, recipientJid: toNative(recipient, rt.ctx.mappings()) };
}
