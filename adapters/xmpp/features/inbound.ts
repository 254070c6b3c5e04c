/**
 * Everyday chat features from XMPP users (issue 18): reactions (XEP-0444), retractions
 * (XEP-0424), replies (XEP-0461 with the XEP-0428 fallback), chat states (XEP-0085) and displayed
 * markers (XEP-0333), turned into canonical events for `ctx.accept`.
 */
import type { CanonicalEvent } from "../../../src/model/events.js";
import { newCanonicalId, type CanonicalId } from "../../../src/model/ids.js";
import { ChatStateSchema, type Reaction } from "../../../src/model/interactions.js";
import { MessageSchema, type Message } from "../../../src/model/message.js";
import type { XmlElement } from "../connection.js";
import { ParleyError } from "../../../src/errors/parley-error.js";
import { canonicalFromStanzaId } from "../ids.js";
import { errorFor, errorForParleyError } from "../errors.js";
import { drop, replyError, type Parties, type XmppRuntime } from "../stanza.js";
import { NS_CHATSTATES, NS_FALLBACK, NS_MARKERS, NS_REACTIONS, NS_REPLY, NS_RETRACT, messageRef, ownMessage } from "./refs.js";

const AUTH = { method: "network", detail: "XMPP server on the component link (RFC 6120 §8.1.2.1)" } as const;
/** Most distinct reactions one person keeps on one message. */
const MAX_KEYS = 20;
const REACTIONS_TTL_SECONDS = 30 * 24 * 3600;

function interaction(p: Parties, body: string, extra: Pick<Message, "reaction"> | Pick<Message, "retracts">): Message {
  return MessageSchema.parse({
    id: newCanonicalId(), from: p.sender, to: p.recipient, authenticatedBy: AUTH,
    sentAt: new Date().toISOString(), kind: "chat", parts: [{ role: "text", body }], ...extra,
  });
}

async function notFound(rt: XmppRuntime, el: XmlElement, what: string): Promise<void> {
  await replyError(rt, el, { type: "cancel", condition: "item-not-found", text: `${what} is not known to the gateway` });
}

/** XEP-0444 §3: the stanza carries the sender's whole set; the core takes each key added or removed. */
async function reactions(rt: XmppRuntime, el: XmlElement, p: Parties, r: XmlElement): Promise<void> {
  const target = r.attrs.id ? await messageRef(rt, r.attrs.id, p.senderBare) : undefined;
  if (target === undefined) return notFound(rt, el, "the message reacted to");
  const keys = [...new Set(r.getChildren("reaction").map((k) => k.text().trim()).filter((k) => k !== "" && k.length <= 64))].slice(0, MAX_KEYS);
  const stateKey = `rx-in:${p.senderBare}:${target}`;
  const before = JSON.parse((await rt.ctx.state.get(stateKey)) ?? "[]") as string[];
  const change = (key: string, op: Reaction["op"]): CanonicalEvent => ({ kind: "message", message: interaction(p, key, { reaction: { target, key, op } }) });
  const events = [...keys.filter((k) => !before.includes(k)).map((k) => change(k, "add")), ...before.filter((k) => !keys.includes(k)).map((k) => change(k, "remove"))];
  if (await acceptAll(rt, el, events)) await rt.ctx.state.set(stateKey, JSON.stringify(keys), REACTIONS_TTL_SECONDS);
}

/** XEP-0424 §4: only one's own message can be retracted, so only the sender's own ids are looked up. */
async function retraction(rt: XmppRuntime, el: XmlElement, p: Parties, r: XmlElement): Promise<void> {
  const target = r.attrs.id ? await ownMessage(rt, r.attrs.id, p.senderBare) : undefined;
  if (target === undefined) return notFound(rt, el, "the message to retract (only your own messages can be retracted)");
  await acceptAll(rt, el, [{ kind: "message", message: interaction(p, "(message retracted)", { retracts: target }) }]);
}

/** Accept the events; a refusal or "try later" goes back to the sender as a stanza error. True when all were taken. */
async function acceptAll(rt: XmppRuntime, el: XmlElement, events: readonly CanonicalEvent[]): Promise<boolean> {
  if (events.length === 0) return true;
  try {
    const refusal = (await rt.ctx.accept(events)).find((r) => r.status === "refused");
    if (refusal?.status !== "refused") return true;
    await replyError(rt, el, errorForParleyError(refusal.error));
  } catch (e) {
    await replyError(rt, el, errorFor(e instanceof ParleyError ? e : new ParleyError("PARLEY_UNAVAILABLE")));
  }
  return false;
}

/**
 * A reaction or a retraction is handled here whole (accepted, or answered with a stanza error);
 * false when the stanza is neither (an ordinary message).
 */
export async function handleInteraction(rt: XmppRuntime, el: XmlElement, p: Parties): Promise<boolean> {
  const r = el.getChild("reactions", NS_REACTIONS);
  const retract = el.getChild("retract", NS_RETRACT);
  if (r) await reactions(rt, el, p, r);
  else if (retract) await retraction(rt, el, p, retract);
  return r !== undefined || retract !== undefined;
}

/** XEP-0461 §3: the message replied to, and the body with the XEP-0428 fallback (the quote) cut out. */
export async function replyOf(rt: XmppRuntime, el: XmlElement, p: Parties, body: string): Promise<{ inReplyTo: CanonicalId | undefined; body: string }> {
  const reply = el.getChild("reply", NS_REPLY);
  if (!reply?.attrs.id) return { inReplyTo: undefined, body };
  const inReplyTo = await messageRef(rt, reply.attrs.id, p.senderBare);
  const fallback = el.getChildren("fallback", NS_FALLBACK).find((f) => f.attrs.for === NS_REPLY)?.getChild("body");
  const start = Number(fallback?.attrs.start);
  const end = Number(fallback?.attrs.end);
  // Offsets count Unicode code points (XEP-0426).
  const chars = [...body];
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end <= start || end > chars.length) return { inReplyTo, body };
  return { inReplyTo, body: [...chars.slice(0, start), ...chars.slice(end)].join("") };
}

/** An XEP-0085 chat state in a one-to-one chat: a typing event for the best-effort path. */
export async function offerChatState(rt: XmppRuntime, el: XmlElement, p: Parties): Promise<void> {
  if (el.attrs.type !== "chat") return;
  const state = el.getChildElements().find((c) => c.attrs.xmlns === NS_CHATSTATES)?.name;
  const parsed = ChatStateSchema.safeParse(state);
  if (!parsed.success) return;
  await rt.ctx.accept([{ kind: "typing", from: p.sender, to: p.recipient, state: parsed.data, authenticatedBy: AUTH }]);
}

/** XEP-0333 §4: `<displayed/>` for a message Parley sent: the canonical `displayed` status for its sender. */
export async function handleDisplayed(rt: XmppRuntime, el: XmlElement, p: Parties): Promise<void> {
  const marker = el.getChild("displayed", NS_MARKERS);
  if (!marker) return;
  const messageId = marker.attrs.id ? canonicalFromStanzaId(marker.attrs.id) : undefined;
  if (!messageId) {
    drop(rt, el, "displayed marker for a message Parley did not send");
    return;
  }
  await rt.ctx.accept([{ kind: "delivery-status", status: {
    messageId, sender: p.recipient, recipient: p.sender, state: "displayed", at: new Date().toISOString(), extensions: {},
  } }]);
}
