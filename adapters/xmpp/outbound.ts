/**
 * Canonical messages and delivery statuses out to XMPP users (RFC 6121 §5; XEP-0359 origin-id,
 * XEP-0184 receipts, XEP-0308 corrections). Every stanza Parley sends for a message carries the
 * id `parley-<canonical id>` (as `id` and as XEP-0359 origin-id), so a retry is recognisable, and
 * a receipt or a bounce maps back to the canonical message without a lookup.
 */
import { BehindUnconfirmed, DeliveryError, type DeliveryOutcome, type HandOn, type PendingConfirm } from "../../src/adapter/contract.js";
import type { Message, Part } from "../../src/model/message.js";
import type { DeliveryStatus } from "../../src/model/delivery-status.js";
import { domainOf } from "../../src/model/address.js";
import { XMPP, parseJid, toNative } from "./address.js";
import { xml, type XmlElement } from "./connection.js";
import { errorForReason } from "./errors.js";
import { errorElement, type XmppRuntime } from "./stanza.js";
import { fileBodies, filesFor, oobElements, placeholder, type OutboundFile } from "./media/outbound.js";
import { errorMessage } from "../../src/errors/message.js";
import { NS_CORRECT, NS_HOPS, NS_RECEIPTS, NS_SID, stanzaIdFor } from "./ids.js";
import { puppetOf } from "./puppet.js";
import { addReply, displayedMarker, interactionStanza } from "./features/outbound.js";

export { NS_SID, NS_RECEIPTS, NS_CORRECT, NS_HOPS, stanzaIdFor, canonicalFromStanzaId } from "./ids.js";

const TYPE: Record<Message["kind"], string> = { chat: "chat", normal: "normal", notice: "normal", emote: "chat" };

function bodyText(m: Message, files: readonly OutboundFile[]): string {
  const lines: string[] = [];
  for (const p of m.parts as readonly Part[]) {
    if (p.role === "text") { if (p.body !== "" || files.length === 0) lines.push(p.body); }
    else if (p.role === "attachment") { if (!files.some((x) => x.part === p)) lines.push(placeholder(p)); }
    // A signed mail also carried as a file (its attachment, same blob) needs no placeholder.
    else if (p.role === "opaque" && !m.parts.some((x) => x.role === "attachment" && x.blobRef === p.blobRef)) lines.push(`[${p.security} content (${p.contentType}) not shown]`);
  }
  const text = lines.join("\n");
  // XEP-0245: an emote is a body starting with "/me ".
  return m.kind === "emote" && !text.startsWith("/me ") ? `/me ${text}` : text;
}

/**
 * The stanzas of a message: its text, then one per file (media/outbound.ts) with the body equal
 * to the file's link, which is what clients render inline. A message that is only a file is one
 * stanza. The first stanza carries the message's id, receipt request and correction.
 */
export function messageStanzas(rt: XmppRuntime, m: Message): XmlElement[] {
  if (m.to.network !== XMPP) throw new DeliveryError("permanent", "recipient-unknown", `${m.to.address} is not an XMPP user`);
  if (m.requireE2E) throw new DeliveryError("permanent", "unsupported", "end-to-end protection cannot be kept on XMPP by the gateway");
  const from = puppetOf(rt, m);
  const to = toNative(m.to, rt.ctx.mappings());
  const id = stanzaIdFor(m.id);
  const files = filesFor(rt, m);
  const text = bodyText(m, files);
  if (Buffer.byteLength(text) > rt.config.maxBodyBytes) throw new DeliveryError("permanent", "too-large", `body over ${rt.config.maxBodyBytes} bytes`);
  return fileBodies(text, files).map((b, i) => {
    const sid = i === 0 ? id : `${id}-${i}`;
    const el = xml("message", { type: TYPE[m.kind], id: sid, from, to, "xml:lang": m.lang });
    if (i === 0) for (const [lang, t] of Object.entries(m.subject ?? {})) el.append(xml("subject", lang === "und" ? {} : { "xml:lang": lang }, t));
    el.append(xml("body", {}, b.body));
    if (b.file) for (const x of oobElements([b.file])) el.append(x);
    if (m.thread !== undefined) el.append(xml("thread", {}, m.thread));
    el.append(xml("origin-id", { xmlns: NS_SID, id: sid }));
    if (i === 0 && m.receiptRequest?.delivered) el.append(xml("request", { xmlns: NS_RECEIPTS }));
    if (i === 0 && m.replaces !== undefined) el.append(xml("replace", { xmlns: NS_CORRECT, id: stanzaIdFor(m.replaces) }));
    // The core decremented the count when it accepted the message (DESIGN §3).
    el.append(xml("hops", { xmlns: NS_HOPS }, String(m.hops)));
    return el;
  });
}

/**
 * Send, then wait for the server to have read it (connection.ts, confirmWritten). A stanza written
 * to a live connection is never sent again because the server is slow to answer (it would arrive
 * twice); it is retried only when its connection died before the server confirmed it.
 */
export async function sendConfirmed(rt: XmppRuntime, el: XmlElement, serverDomain: string): Promise<void> {
  const fromDomain = parseJid(el.attrs.from ?? "").domain;
  if (!rt.link.isOnline(fromDomain)) throw new DeliveryError("transient", "unavailable", `component link for ${fromDomain} is down`);
  try {
    const generation = await rt.link.send(el);
    await rt.link.confirmWritten(fromDomain, serverDomain, generation);
  } catch (e) {
    throw new DeliveryError("transient", "unavailable", "the XMPP server did not confirm the stanza", { cause: e, nativeDetail: errorMessage(e) });
  }
}

/**
 * Hand-on (src/adapter/contract.ts HandOn): write the stanzas on the live connection of their
 * `from` domain — only on `after`'s connection when earlier messages of the conversation await
 * their confirmation there — and return the confirmation still to come: one ping after the last
 * stanza, shared with every other write in flight (connection.ts, confirmWritten). If the
 * connection dies first, it and every later confirmation on it reject, and nothing is written on
 * the next connection before they are sent again.
 */
export async function sendPending(rt: XmppRuntime, stanzas: readonly XmlElement[], serverDomain: string, after: string | undefined): Promise<PendingConfirm> {
  const fromDomain = parseJid(stanzas[0]!.attrs.from ?? "").domain;
  const generation = rt.link.generation(fromDomain);
  if (generation < 0) throw new DeliveryError("transient", "unavailable", `component link for ${fromDomain} is down`);
  const channel = rt.link.channel(fromDomain, generation);
  if (after !== undefined && after !== channel) {
    throw new BehindUnconfirmed("earlier messages of this conversation went out on a connection that is gone; they go again first");
  }
  try {
    // No await between the check above and the first write: both see the same connection.
    for (const x of stanzas) {
      if ((await rt.link.send(x)) !== generation) throw new Error(`component link for ${fromDomain} was replaced between two stanzas of one message`);
    }
  } catch (e) {
    throw new DeliveryError("transient", "unavailable", "the XMPP server did not take the stanza", { cause: e, nativeDetail: errorMessage(e) });
  }
  const confirmed = rt.link.confirmWritten(fromDomain, serverDomain, generation).catch((e: unknown) => {
    throw new DeliveryError("transient", "unavailable", "the XMPP server did not confirm the stanza", { cause: e, nativeDetail: errorMessage(e) });
  });
  confirmed.catch(() => undefined); // the caller awaits it; no unhandled rejection meanwhile
  return { channel, confirmed };
}

export async function deliverMessage(rt: XmppRuntime, m: Message, handOn?: HandOn): Promise<DeliveryOutcome> {
  const interaction = await interactionStanza(rt, m);
  const stanzas = interaction ? [interaction] : messageStanzas(rt, m);
  if (m.inReplyTo !== undefined && !interaction) await addReply(rt, m.inReplyTo, stanzas[0]!);
  const el = stanzas[0]!;
  const id = el.attrs.id!;
  const outcome: DeliveryOutcome = { state: "relayed", nativeIds: [{ network: XMPP, kind: "origin-id", id, scope: el.attrs.to }] };
  // Confirmed here before, its `sent` marker never written (Redis failed): not written twice (src/adapter/confirmed-sends.ts).
  if (rt.confirmed?.has(m.id, m.to.address)) {
    rt.log.info({ messageId: m.id }, "already confirmed by the XMPP server on this process; not sent again");
    return outcome;
  }
  // They may answer it: told if the link holder dies meanwhile (recent-contacts.ts, crash-notice.ts).
  rt.contacts?.outbound(el.attrs.to ?? "", parseJid(el.attrs.from ?? "").domain);
  const confirmed = () => rt.confirmed?.add(m.id, m.to.address);
  if (handOn) {
    const pending = await sendPending(rt, stanzas, domainOf(m.to.address), handOn.after);
    const done = pending.confirmed.then(confirmed);
    done.catch(() => undefined); // the caller awaits it; no unhandled rejection meanwhile
    return { ...outcome, pending: { channel: pending.channel, confirmed: done } };
  }
  for (const x of stanzas) await sendConfirmed(rt, x, domainOf(m.to.address));
  confirmed();
  return outcome;
}

/**
 * Report a status to the XMPP sender (DESIGN §3, Receipts): `delivered`/`displayed` as an XEP-0184
 * `<received/>` when the sender asked, `failed` as a message error (RFC 6120 §8.3) from the
 * recipient's puppet, echoing the sender's stanza id; `relayed` and the rest answer nothing.
 */
export async function deliverStatus(rt: XmppRuntime, s: DeliveryStatus): Promise<void> {
  if (s.sender.network !== XMPP) throw new DeliveryError("permanent", "recipient-unknown", "status for a sender who is not on XMPP");
  if (s.state !== "delivered" && s.state !== "displayed" && s.state !== "failed") return;
  const raw = await rt.ctx.state.get(`origin:${s.messageId}`);
  const origin = raw === undefined ? undefined : (JSON.parse(raw) as { id?: string; jid?: string; receipt?: boolean; markable?: boolean });
  if (s.recipient.network === XMPP && s.state === "failed") {
    // A room homed on XMPP (a MUC) has no puppet, and an error to a bare JID is dropped (RFC 6121
    // §8.5.2.1.1): a failure there is told in a plain message from Parley's component domain.
    const text = `⚠ ${s.text ?? "A room activity could not be delivered."}`;
    await sendConfirmed(rt, xml("message", { type: "normal", from: [...rt.domains][0]!, to: toNative(s.sender, rt.ctx.mappings()), id: stanzaIdFor(s.messageId) }, xml("body", {}, text)), domainOf(s.sender.address));
    return;
  }
  const from = puppetOf(rt, { from: s.recipient });
  const to = origin?.jid ?? toNative(s.sender, rt.ctx.mappings());
  let el: XmlElement;
  if (s.state === "failed") {
    const spec = errorForReason(s.reason ?? "internal", s.text ?? "The message could not be delivered.");
    el = xml("message", { type: "error", from, to, id: origin?.id }, errorElement(spec));
  } else if (s.state === "displayed" && origin?.markable === true && origin.id !== undefined) {
    el = displayedMarker(from, to, origin.id); // XEP-0333 §4
  } else {
    // XEP-0184 §5: a receipt only answers a request, and names the requesting stanza's id.
    if (origin?.id === undefined || origin.receipt !== true) {
      rt.log.debug({ messageId: s.messageId }, "no receipt requested (or no stanza id); nothing to answer");
      return;
    }
    el = xml("message", { from, to, id: stanzaIdFor(s.messageId) }, xml("received", { xmlns: NS_RECEIPTS, id: origin.id }));
  }
  await sendConfirmed(rt, el, domainOf(s.sender.address));
}
