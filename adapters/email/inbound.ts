/**
 * Email → chat (issue 5 §1–3, §6): what happens to a message once DATA is complete. Returns the
 * SMTP reply; the listener answers 250 only when this resolves without a refusal, i.e. once the
 * core has the message durably (DESIGN §3 "ack after durability").
 */
import type { AcceptResult, AdapterContext } from "../../src/adapter/contract.js";
import type { DeliveryStatus } from "../../src/model/delivery-status.js";
import type { CanonicalEvent } from "../../src/model/events.js";
import type { Endpoint } from "../../src/model/address.js";
import { DEFAULT_HOPS, MessageSchema, type Message, type Part } from "../../src/model/message.js";
import { newCanonicalId } from "../../src/model/ids.js";
import { isParleyError } from "../../src/errors/parley-error.js";
import type { DNSResolver } from "mailauth";
import { EMAIL, EMAIL_EXT, fromNative } from "./address.js";
import { NEUTRAL_METHOD, checkSender, type SenderVerdict } from "./auth.js";
import type { BlobStore } from "./blobs.js";
import type { EmailConfig } from "./config.js";
import { acceptDsn } from "./dsn-in.js";
import { replyForParleyCode, reply, type SmtpReply } from "./errors.js";
import { headerSafe } from "./headers.js";
import { checkMimeBounds, MimeLimitError, topHeader, topHeaderCount } from "./mime-limits.js";
import { automaticKind, parseEmail, type ParsedEmail } from "./parse.js";
import { stripQuotes } from "./quotes.js";
import { attachmentParts, filesToCarry, replyForMediaError } from "./media.js";
import { canonicalIdInMessageId, extendThread } from "./threads.js";
import { errorMessage } from "../../src/errors/message.js";
import type { ListTarget } from "./list/address.js";
import type { ListInbound } from "./list/inbound.js";
import { LIST_OUT_PREFIX } from "./list/outbound.js";

export const INBOUND_RECORD_TTL_SECONDS = 30 * 24 * 3600;

export interface Envelope {
  readonly ip: string;
  readonly helo: string;
  readonly mailFrom: string;
  /** Recipients as given at RCPT, each already resolved to a bridged endpoint (or the bounce address). */
  readonly rcpts: ReadonlyArray<{ readonly native: string; readonly endpoint: Endpoint | "bounce"; readonly verpId?: string | undefined }>;
  readonly viaTrustedRelay: boolean;
  /** Set when the one recipient is a linked room's list (or its subscribe/unsubscribe address). */
  readonly list?: ListTarget | undefined;
}

/** What the DSN sender needs to know about a message Parley accepted from a mailbox. */
export interface InboundRecord {
  readonly mailFrom: string;
  readonly aligned: boolean;
  readonly rcpt: string;
  readonly messageId: string | undefined;
  readonly subject: string | undefined;
  readonly from: string;
}

export interface InboundDeps {
  readonly config: EmailConfig;
  readonly ctx: AdapterContext;
  readonly blobs: BlobStore;
  readonly resolver?: DNSResolver | undefined;
  /** Report a recipient refused after others were accepted (the 250 covers the whole transaction). */
  readonly reportFailure?: ((status: DeliveryStatus) => Promise<void>) | undefined;
  /** List mail (issue 12): posts, subscriptions. */
  readonly lists?: ListInbound | undefined;
}

const OK: SmtpReply = reply(250, "2.0.0", "OK");

export class Inbound {
  constructor(private readonly deps: InboundDeps) {}

  private get log() { return this.deps.ctx.log; }

  async handle(raw: Buffer, env: Envelope): Promise<SmtpReply> {
    try {
      checkMimeBounds(raw, this.deps.config.limits);
    } catch (e) {
      if (!(e instanceof MimeLimitError)) throw e;
      this.log.info({ limit: e.what }, "refused: MIME bounds");
      return e.what === "depth" || e.what === "parts" ? reply(552, "5.3.4", e.message) : reply(554, "5.6.0", e.message);
    }
    const received = topHeaderCount(raw, "Received");
    if (received > this.deps.config.limits.maxReceived) {
      this.log.info({ received, limit: this.deps.config.limits.maxReceived }, "refused: mail loop (Received: count)");
      return reply(554, "5.4.6", `Routing loop detected: ${received} Received: fields, more than ${this.deps.config.limits.maxReceived} (RFC 5321 section 6.3)`);
    }
    const hopsHeader = topHeader(raw, "X-Parley-Hops");
    const hops = hopsHeader !== undefined && /^\d{1,3}$/.test(hopsHeader) ? Math.min(Number(hopsHeader), DEFAULT_HOPS) : DEFAULT_HOPS;
    if (hops <= 0) return reply(554, "5.4.6", "Routing loop detected (hop count exhausted)");
    const bounce = env.rcpts.find((r) => r.endpoint === "bounce");
    if (bounce) return acceptDsn(this.deps.ctx, raw, bounce.verpId);
    const automatic = automaticKind(raw) ?? (env.mailFrom === "" ? "null sender" : undefined);
    if (automatic) {
      this.log.info({ automatic }, "accepted, not bridged: automatic or list mail (RFC 3834)");
      return OK;
    }
    if (await this.isOwnEcho(raw)) {
      this.log.info({}, "accepted, not bridged: Parley's own message");
      return OK;
    }
    const verdict = await checkSender(raw, { ip: env.ip, helo: env.helo, mailFrom: env.mailFrom, viaTrustedRelay: env.viaTrustedRelay, mta: this.deps.config.hostname, resolver: this.deps.resolver });
    let parsed: ParsedEmail;
    try {
      parsed = await parseEmail(raw);
    } catch {
      this.log.info({}, "refused: MIME could not be parsed");
      return reply(554, "5.6.0", "Message could not be parsed");
    }
    const refusal = this.checkSenderPolicy(parsed, verdict);
    if (refusal) return refusal;
    if (parsed.attachments.length > this.deps.config.limits.maxAttachments) return reply(552, "5.3.4", `More than ${this.deps.config.limits.maxAttachments} attachments`);
    if (env.list) {
      if (!this.deps.lists) return reply(550, "5.1.1", "No such list here");
      const from = fromNative(parsed.fromAddress!, this.deps.ctx.mappings());
      return this.deps.lists.receive(env.list, { parsed, verdict, from, hops, parts: async () => (await this.parts(raw, parsed, !verdict.trusted, from)).parts });
    }
    return this.bridge(raw, env, parsed, verdict, hops);
  }

  private async isOwnEcho(raw: Buffer): Promise<boolean> {
    const ids = [topHeader(raw, "X-Parley-Id"), canonicalIdInMessageId(topHeader(raw, "Message-ID") ?? "")].filter((x): x is string => !!x);
    for (const id of ids) {
      if (await this.deps.ctx.state.get(`out:${id}`) || await this.deps.ctx.state.get(`${LIST_OUT_PREFIX}${id}`)) return true;
    }
    return false;
  }

  /** A spoofed or unproved From never becomes a trusted sender (DESIGN §5). */
  private checkSenderPolicy(parsed: ParsedEmail, verdict: SenderVerdict): SmtpReply | undefined {
    if (!parsed.fromAddress || parsed.fromCount !== 1) return reply(550, "5.7.1", "Exactly one From: mailbox is required");
    // The identity bridged must be the one authentication checked: parsers that disagree (encoded
    // words in an addr-spec, RFC 2047 §5) would let a message prove one address and show another.
    if (parsed.fromAddress.toLowerCase() !== verdict.fromAddress?.toLowerCase()) return reply(550, "5.7.1", "Ambiguous From: address");
    let from: Endpoint;
    try {
      from = fromNative(parsed.fromAddress, this.deps.ctx.mappings());
    } catch {
      return reply(550, "5.7.1", "Sender address not accepted");
    }
    // A From: in a gateway domain would impersonate a chat user: only mailboxes may send mail in.
    if (from.network !== EMAIL) return reply(550, "5.7.1", "Sender address not accepted");
    if (verdict.trusted) return undefined;
    if (verdict.temporary) return reply(451, "4.4.3", "Sender authentication could not be completed (DNS), try again later");
    const m = this.deps.ctx.mappings();
    const policy = m.domains.get(from.address.slice(from.address.lastIndexOf("@") + 1))?.policy ?? m.defaultPolicy;
    if (!policy.acceptUnauthenticated) {
      this.log.info({ auth: verdict.detail }, "refused: sender not authenticated (strict policy)");
      return reply(550, "5.7.1", `Sender authentication failed (${verdict.detail.split(" header.from")[0]})`);
    }
    return undefined;
  }

  async parts(raw: Buffer, parsed: ParsedEmail, unverified: boolean, from: Endpoint): Promise<{ parts: Part[]; stripped: boolean }> {
    const { text, stripped } = stripQuotes(parsed.text || "(no text)");
    const marked = unverified ? `[unverified sender] ${text}` : text;
    const parts: Part[] = [{ role: "text", body: marked, ...(parsed.lang ? { lang: parsed.lang } : {}) }];
    // The sanitised HTML goes along only when nothing was stripped: it would still hold the quote.
    if (parsed.html && !stripped && !unverified) parts.push({ role: "html", body: parsed.html });
    const files = parsed.attachments.filter((a) => !/^message\/(global-)?delivery-status$/i.test(a.contentType));
    const safe = files.map((a) => ({ ...a, filename: a.filename ? safeFilename(a.filename) : undefined }));
    parts.push(...(await attachmentParts(this.deps.ctx.media, this.deps.blobs, filesToCarry(raw, parsed.security, safe), from)));
    if (parsed.security) parts.push({ role: "opaque", contentType: "message/rfc822", size: raw.length, blobRef: await this.deps.blobs.put(raw), security: parsed.security });
    return { parts, stripped };
  }

  private async bridge(raw: Buffer, env: Envelope, parsed: ParsedEmail, verdict: SenderVerdict, hops: number): Promise<SmtpReply> {
    const ctx = this.deps.ctx;
    const from = fromNative(parsed.fromAddress!, ctx.mappings());
    const built = await this.parts(raw, parsed, !verdict.trusted, from).catch((e: unknown) => { if (isParleyError(e)) return e; throw e; });
    if (isParleyError(built)) return replyForMediaError(built); // an attachment broke a media limit
    const { parts, stripped } = built;
    const original = stripped ? await this.deps.blobs.put(raw) : undefined;
    const inReplyTo = parsed.inReplyTo ? await ctx.ids.canonicalFor({ network: EMAIL, kind: "message-id", id: parsed.inReplyTo }) : undefined;
    const replyTo = parsed.replyTo && verdict.trusted ? safeEndpoint(parsed.replyTo, ctx) : undefined;
    const events: CanonicalEvent[] = [];
    const targets = env.rcpts.filter((r): r is typeof r & { endpoint: Endpoint } => r.endpoint !== "bounce");
    // One mail to several recipients is one message for the sender's rate limits (one submission).
    const submission = targets.length > 1 ? newCanonicalId() : undefined;
    for (const r of targets) {
      const message: Message = MessageSchema.parse({
        id: newCanonicalId(),
        nativeIds: parsed.messageId ? [{ network: EMAIL, kind: "message-id", id: parsed.messageId, ...(targets.length > 1 ? { scope: r.native } : {}) }] : [],
        from,
        authenticatedBy: verdict.trusted ? { method: NEUTRAL_METHOD[verdict.method], detail: verdict.detail } : { method: "none", detail: verdict.detail },
        displayName: displayNameOf(parsed, verdict.trusted),
        to: r.endpoint,
        ...(replyTo && replyTo.network === EMAIL ? { replyTo } : {}),
        sentAt: (parsed.date ?? new Date()).toISOString(),
        ...(parsed.subject && headerSafe(parsed.subject, 4000) ? { subject: { [parsed.lang ?? "und"]: headerSafe(parsed.subject, 4000) } } : {}),
        kind: "chat",
        ...(inReplyTo ? { inReplyTo } : {}),
        ...(parsed.lang ? { lang: parsed.lang } : {}),
        parts,
        hops, // the core decrements once per gateway (DESIGN §3)
        extensions: { [EMAIL_EXT]: { payload: { verified: verdict.trusted, auth: verdict.detail, ...(original ? { original } : {}), references: parsed.references.slice(-10) } } },
      });
      events.push({ kind: "message", message, ...(submission ? { submission } : {}) });
    }
    return this.acceptAll(events, env, parsed, verdict);
  }

  private async acceptAll(events: CanonicalEvent[], env: Envelope, parsed: ParsedEmail, verdict: SenderVerdict): Promise<SmtpReply> {
    const ctx = this.deps.ctx;
    const targets = env.rcpts.filter((r) => r.endpoint !== "bounce");
    // Written before the accept: a reply or a failure status may race the 250 (all idempotent, keyed by fresh ids).
    for (const [i, ev] of events.entries()) {
      if (ev.kind !== "message") continue;
      const rcpt = targets[i]?.native ?? "";
      const record: InboundRecord = { mailFrom: env.mailFrom, aligned: verdict.aligned, rcpt, messageId: parsed.messageId, subject: parsed.subject, from: parsed.fromAddress ?? "" };
      await ctx.state.set(`in:${ev.message.id}`, JSON.stringify(record), INBOUND_RECORD_TTL_SECONDS);
      if (parsed.messageId) await extendThread(ctx.state, ev.message.from.address, rcpt, parsed.messageId, parsed.subject ?? "");
    }
    let results;
    try {
      results = await ctx.accept(events);
    } catch (e) {
      this.log.warn({ err: isParleyError(e) ? e.code : "error" }, "accept failed: answering 451");
      return replyForParleyCode(isParleyError(e) ? e.code : "PARLEY_UNAVAILABLE");
    }
    const refused = results.find((r) => r.status === "refused");
    if (refused && refused.status === "refused" && results.every((r) => r.status === "refused")) return replyForParleyCode(refused.error.code, refused.error.message);
    await this.reportRefused(events, results);
    for (const [i, ev] of events.entries()) {
      if (ev.kind !== "message" || results[i]?.status !== "accepted") continue;
      const m = ev.message;
      if (parsed.messageId) await ctx.ids.link(m.id, { network: EMAIL, kind: "message-id", id: parsed.messageId });
      this.log.info({ messageId: m.id, verified: verdict.trusted }, "accepted from SMTP");
    }
    return OK;
  }

  /** Mixed outcome: the transaction gets 250, so each refused recipient is reported by DSN (issue 5 §5). */
  private async reportRefused(events: readonly CanonicalEvent[], results: readonly AcceptResult[]): Promise<void> {
    for (const [i, ev] of events.entries()) {
      const r = results[i];
      if (ev.kind !== "message" || r?.status !== "refused" || !this.deps.reportFailure) continue;
      const m = ev.message;
      const status: DeliveryStatus = {
        messageId: m.id, sender: m.from, recipient: m.to, state: "failed", reason: r.error.info.reason,
        text: r.error.message.slice(0, 1024), at: new Date().toISOString(), extensions: {},
      };
      await this.deps.reportFailure(status).catch((e: unknown) => this.log.warn({ messageId: m.id, err: errorMessage(e) }, "could not report a refused recipient"));
    }
  }
}

/** A display name from RFC 2047 words may decode to anything: controls go, unverified senders are marked. */
function displayNameOf(parsed: ParsedEmail, trusted: boolean): string | undefined {
  const name = parsed.fromName ? headerSafe(parsed.fromName, 150) : "";
  if (trusted) return name || undefined;
  return `${name ? `${name} ` : ""}(unverified ${headerSafe(parsed.fromAddress ?? "", 100)})`;
}

/** A file name is a label, never a path: last path segment, no controls, bounded. */
export function safeFilename(name: string): string | undefined {
  const base = headerSafe(name, 255).split(/[\\/]/).pop()?.replace(/^\.+/, "").trim();
  return base ? base : undefined;
}

function safeEndpoint(address: string, ctx: AdapterContext): Endpoint | undefined {
  try {
    return fromNative(address, ctx.mappings());
  } catch {
    return undefined;
  }
}
