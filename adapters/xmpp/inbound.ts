/**
 * Stanzas from the XMPP server into the core: messages (RFC 6121 §5), receipts (XEP-0184),
 * corrections (XEP-0308), stanza ids (XEP-0359), bounces of Parley's own sends, and the
 * dispatch of presence and IQs to their modules.
 */
import type { AcceptResult } from "../../src/adapter/contract.js";
import { ParleyError } from "../../src/errors/parley-error.js";
import type { CanonicalId } from "../../src/model/ids.js";
import { newCanonicalId } from "../../src/model/ids.js";
import { MessageSchema, type MessageKind, type NativeId } from "../../src/model/message.js";
import type { LangMap } from "../../src/model/common.js";
import { DEFAULT_HOPS } from "../../src/model/message.js";
import { XMPP, fromNative } from "./address.js";
import type { XmlElement } from "./connection.js";
import { errorFor, errorForParleyError, reasonForCondition, NS_STANZAS } from "./errors.js";
import { handleIq } from "./disco.js";
import type { BlockingCommand } from "./blocking.js";
import { handlePresence, type PresenceState } from "./presence.js";
import { STANZA_NAMESPACES, drop, replyError, resolveParties, type Parties, type XmppRuntime } from "./stanza.js";
import { NS_CORRECT, NS_HOPS, NS_RECEIPTS, NS_SID, canonicalFromStanzaId } from "./outbound.js";
import { withFiles } from "./media/inbound.js";
import { errorMessage } from "../../src/errors/message.js";
import { handleDisplayed, handleInteraction, offerChatState, replyOf } from "./features/inbound.js";
import { NS_MARKERS } from "./features/refs.js";
import { journalKeyOf } from "./journal.js";

const KIND: Record<string, MessageKind | undefined> = { chat: "chat", normal: "normal", headline: "notice" };

/** Route one stanza from the link. Never throws: every failure becomes a stanza error or a log line. */
export async function handleStanza(rt: XmppRuntime, el: XmlElement, presence: PresenceState, blocking?: BlockingCommand): Promise<void> {
  try {
    const ns = el.attrs.xmlns;
    if (ns !== undefined && !STANZA_NAMESPACES.has(ns)) {
      await replyError(rt, el, { type: "modify", condition: "bad-request", text: `stanza in unknown namespace ${ns.slice(0, 100)}` });
      return;
    }
    if (el.name === "message") await handleMessage(rt, el);
    else if (el.name === "presence") await handlePresence(rt, el, presence);
    else if (el.name === "iq") await handleIq(rt, el, blocking);
    else drop(rt, el, "not a stanza");
  } catch (e) {
    rt.log.error({ err: errorMessage(e), stanza: el.name }, "stanza handling failed");
    await replyError(rt, el, errorFor(e));
  }
}

function langMap(els: readonly XmlElement[], defaultLang: string): LangMap | undefined {
  const out: LangMap = {};
  for (const s of els) {
    // Prosody passes CR/LF through: a subject is one line (it may become a mail header).
    // eslint-disable-next-line no-control-regex -- control characters are what is removed
    out[s.attrs["xml:lang"] ?? defaultLang] = s.text().replace(/[\r\n\t\u0000-\u001f\u007f]+/g, " ").trim().slice(0, 4096);
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function nativeIds(el: XmlElement, p: Parties): NativeId[] {
  const ids: NativeId[] = [];
  // RFC 6120 §8.1.3: the sender makes `id` unique, in practice per session: scoped to the full JID,
  // so a counter restarting in a new session is not taken for a replay (T-2.5.2).
  if (el.attrs.id) ids.push({ network: XMPP, kind: "message-id", id: el.attrs.id.slice(0, 1024), scope: p.senderJid.slice(0, 1024) });
  const origin = el.getChild("origin-id", NS_SID)?.attrs.id;
  if (origin) ids.push({ network: XMPP, kind: "origin-id", id: origin.slice(0, 1024), scope: p.senderBare });
  // Neither: the journal key (journal.ts) still makes a replay after a crash a recognised duplicate.
  const journaled = journalKeyOf(el);
  if (!el.attrs.id && !origin && journaled) ids.push({ network: XMPP, kind: "journal", id: journaled });
  for (const s of el.getChildren("stanza-id", NS_SID).slice(0, 4)) {
    if (s.attrs.id && s.attrs.by) ids.push({ network: XMPP, kind: "stanza-id", id: s.attrs.id.slice(0, 1024), scope: s.attrs.by.slice(0, 1024) });
  }
  return ids;
}

async function handleMessage(rt: XmppRuntime, el: XmlElement): Promise<void> {
  const type = el.attrs.type ?? "normal";
  if (type === "error") return handleBounce(rt, el);
  const p = await resolveParties(rt, el);
  if (!p) return;
  const received = el.getChild("received", NS_RECEIPTS);
  if (received) await handleReceipt(rt, p, received.attrs.id);
  await handleDisplayed(rt, el, p);
  await offerChatState(rt, el, p);
  if (await handleInteraction(rt, el, p)) return;
  const bodies = el.getChildren("body").filter((b) => b.attrs.xmlns === undefined || STANZA_NAMESPACES.has(b.attrs.xmlns));
  const subjects = el.getChildren("subject").filter((b) => b.attrs.xmlns === undefined || STANZA_NAMESPACES.has(b.attrs.xmlns));
  if (bodies.length === 0 && subjects.length === 0) return; // chat states, receipts alone: nothing to carry
  const kind = KIND[type];
  if (kind === undefined) {
    await replyError(rt, el, { type: "cancel", condition: "feature-not-implemented", text: `message type ${type.slice(0, 20)} is not bridged` });
    return;
  }
  const bodyBytes = bodies.reduce((n, b) => n + Buffer.byteLength(b.text()), 0);
  if (bodyBytes > rt.config.maxBodyBytes) {
    await replyError(rt, el, errorForParleyError(new ParleyError("PARLEY_TOO_LARGE", `the body is larger than ${rt.config.maxBodyBytes} bytes`)));
    return;
  }
  const thread = el.getChildText("thread") ?? undefined;
  // eslint-disable-next-line no-control-regex -- a thread id is an opaque token (RFC 6121 §5.2.5)
  if (thread !== undefined && /[\u0000-\u001f\u007f]/.test(thread)) {
    await replyError(rt, el, { type: "modify", condition: "bad-request", text: "control characters in <thread/>" });
    return;
  }
  const lang = el.attrs["xml:lang"];
  const id = newCanonicalId();
  const replaceOf = el.getChild("replace", NS_CORRECT)?.attrs.id;
  const replaces = replaceOf ? await rt.ctx.ids.canonicalFor({ network: XMPP, kind: "message-id", id: replaceOf, scope: p.senderBare }) : undefined;
  const marked = replaceOf !== undefined && replaces === undefined;
  const reply = await replyOf(rt, el, p, bodies[0]?.text() ?? "");
  const texts = bodies.length === 0
    ? [{ role: "text" as const, body: "" }]
    : bodies.map((b, i) => ({ role: "text" as const, body: (marked ? "[correction] " : "") + (i === 0 ? reply.body : b.text()), lang: b.attrs["xml:lang"] ?? lang }));
  const parts = await withFiles(rt, el, p.sender, texts); // XEP-0066 files, fetched (media/inbound.ts)
  if (!parts) return;
  const hopsText = el.getChildText("hops", NS_HOPS);
  const hops = hopsText !== null && /^\d{1,3}$/.test(hopsText) ? Math.min(255, Number(hopsText)) : DEFAULT_HOPS;
  const parsed = MessageSchema.safeParse({
    id, nativeIds: nativeIds(el, p), from: p.sender, to: p.recipient,
    authenticatedBy: { method: "network", detail: "XMPP server on the component link (RFC 6120 §8.1.2.1)" },
    sentAt: new Date().toISOString(), subject: langMap(subjects, lang ?? "und"), kind, thread, lang,
    replaces, parts, hops, inReplyTo: reply.inReplyTo,
    receiptRequest: el.getChild("request", NS_RECEIPTS) || el.getChild("markable", NS_MARKERS)
      ? { delivered: el.getChild("request", NS_RECEIPTS) !== undefined, displayed: el.getChild("markable", NS_MARKERS) !== undefined } : undefined,
  });
  if (!parsed.success) {
    await replyError(rt, el, { type: "modify", condition: "bad-request", text: `message not valid: ${parsed.error.issues[0]?.message ?? "invalid"}` });
    return;
  }
  await acceptAndAnswer(rt, el, parsed.data.id, p, () => rt.ctx.accept([{ kind: "message", message: parsed.data }]));
}

/** Where statuses for a canonical message go back to (adapter state, 7 days). */
export interface OriginRecord { readonly id: string | undefined; readonly jid: string; readonly receipt: boolean; readonly markable?: boolean }
export const ORIGIN_TTL_SECONDS = 7 * 24 * 3600;

async function acceptAndAnswer(rt: XmppRuntime, el: XmlElement, id: CanonicalId, p: Parties, accept: () => Promise<AcceptResult[]>): Promise<void> {
  // Recorded before the core sees the message, so a status can never outrun it (XEP-0184 §5:
  // the receipt goes to the sending resource and names its stanza id).
  const origin: OriginRecord = {
    id: el.attrs.id?.slice(0, 1024), jid: p.senderJid, receipt: el.getChild("request", NS_RECEIPTS) !== undefined,
    markable: el.getChild("markable", NS_MARKERS) !== undefined,
  };
  let result: AcceptResult | undefined;
  try {
    // A failed write here (Redis down) goes on to accept, which fails the same way and is counted
    // and answered with the neutral "try later"; never an internal error text to the user.
    await rt.ctx.state.set(`origin:${id}`, JSON.stringify(origin), ORIGIN_TTL_SECONDS)
      .catch((e: unknown) => rt.log.warn({ messageId: id, err: errorMessage(e) }, "origin record not stored"));
    [result] = await accept();
  } catch (e) {
    await replyError(rt, el, errorFor(e instanceof ParleyError ? e : new ParleyError("PARLEY_UNAVAILABLE")));
    return;
  }
  if (result?.status === "refused") {
    await replyError(rt, el, errorForParleyError(result.error));
    return;
  }
  // After acceptance only: the core reads the id map to recognise echoes (DESIGN §3).
  if (result?.status === "accepted" && el.attrs.id) {
    await rt.ctx.ids.link(result.messageId ?? id, { network: XMPP, kind: "message-id", id: el.attrs.id.slice(0, 1024), scope: p.senderBare });
  }
  rt.log.debug({ messageId: id, status: result?.status }, "inbound message handled");
}

/** XEP-0184 §5: a `<received/>` from the XMPP recipient proves delivery of a foreign sender's message. */
async function handleReceipt(rt: XmppRuntime, p: Parties, stanzaId: string | undefined): Promise<void> {
  const messageId = stanzaId ? canonicalFromStanzaId(stanzaId) : undefined;
  if (!messageId) {
    drop(rt, { name: "message", attrs: { id: stanzaId } }, "receipt for a message Parley did not send");
    return;
  }
  await rt.ctx.accept([{ kind: "delivery-status", status: {
    messageId, sender: p.recipient, recipient: p.sender, state: "delivered", at: new Date().toISOString(), extensions: {},
  } }]);
}

/** An error bounced back for a stanza Parley sent (RFC 6120 §8.3): a failure status for the foreign sender. */
async function handleBounce(rt: XmppRuntime, el: XmlElement): Promise<void> {
  const messageId = el.attrs.id ? canonicalFromStanzaId(el.attrs.id) : undefined;
  if (!messageId || !el.attrs.from || !el.attrs.to) {
    drop(rt, el, "error stanza for nothing Parley sent");
    return;
  }
  const err = el.getChild("error");
  const condition = err?.getChildElements().find((c) => c.attrs.xmlns === NS_STANZAS && c.name !== "text")?.name ?? "undefined-condition";
  try {
    const recipient = fromNative(el.attrs.from, rt.ctx.mappings());
    const sender = fromNative(el.attrs.to, rt.ctx.mappings());
    await rt.ctx.accept([{ kind: "delivery-status", status: {
      messageId, sender, recipient, state: "failed", reason: reasonForCondition(condition, err?.attrs.type),
      text: `XMPP error ${condition}: ${err?.getChildText("text", NS_STANZAS) ?? ""}`.slice(0, 1024).trim(),
      at: new Date().toISOString(), extensions: { "urn:parley:xmpp:error": { payload: { condition, type: err?.attrs.type } } },
    } }]);
  } catch (e) {
    drop(rt, el, `bounce not mapped: ${errorMessage(e)}`);
  }
}
