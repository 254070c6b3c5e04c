/**
 * Chat → email (issue 5 §4). One canonical message becomes one RFC 5322 message:
 * `From` the sender's address in the bridged mail domain with their name, `Message-ID` derived from
 * the canonical id (the same on every retry), `In-Reply-To`/`References` per conversation,
 * `multipart/alternative` text + HTML (RFC 2046 §5.1.4; RFC 2779 T-4.1.7), DKIM-signed when a key
 * covers the From domain (RFC 6376), handed to the relay (or the recipient's MX) by nodemailer.
 * The envelope sender is VERP-extended (`bounces+<canonical id>@…`) so a DSN names its message.
 */
import { resolveMx } from "node:dns/promises";
import { readFileSync } from "node:fs";
import { createTransport } from "nodemailer";
import type { Options as MailOptions } from "nodemailer/lib/mailer";
import type { DeliveryOutcome } from "../../src/adapter/contract.js";
import type { AdapterStateStore, IdMap } from "../../src/adapter/state.js";
import type { Endpoint } from "../../src/model/address.js";
import { plainText, type Message } from "../../src/model/message.js";
import type { CanonicalId } from "../../src/model/ids.js";
import type { DomainMappings } from "../../src/mappings/types.js";
import type { Logger } from "../../src/log/logger.js";
import { EMAIL, toNative } from "./address.js";
import type { BlobStore } from "./blobs.js";
import type { MediaPort } from "../../src/adapter/media.js";
import { outboundFiles } from "./media.js";
import type { EmailConfig } from "./config.js";
import { classifySendError } from "./errors.js";
import { headerSafe, textToHtml } from "./headers.js";
import { extendThread, loadThread, messageIdFor } from "./threads.js";
import { ConfirmedSends } from "../../src/adapter/confirmed-sends.js";

/** How long the facts needed to match a DSN to its message are kept. */
export const OUTBOUND_RECORD_TTL_SECONDS = 30 * 24 * 3600;

export interface OutboundRecord {
  readonly from: Endpoint;
  readonly to: Endpoint;
  readonly messageId: string;
}

export interface LoadedDkimKey {
  readonly domain: string;
  readonly selector: string;
  readonly privateKey: string;
  readonly subdomains: boolean;
}

export function loadDkimKeys(config: EmailConfig): LoadedDkimKey[] {
  return config.dkim.map((k) => ({
    domain: k.domain.toLowerCase(), selector: k.selector, subdomains: k.subdomains,
    privateKey: k.privateKey ?? readFileSync(k.privateKeyFile!, "utf8"),
  }));
}

/**
 * The header fields DKIM signs: nodemailer's list (RFC 6376 §5.4.1's, with the List-* fields) and
 * `List-Unsubscribe-Post`, which RFC 8058 §4 wants signed beside `List-Unsubscribe`.
 */
export const DKIM_FIELDS = [
  "From", "Sender", "Reply-To", "Subject", "Date", "Message-ID", "To", "Cc", "MIME-Version", "Content-Type",
  "Content-Transfer-Encoding", "Content-ID", "Content-Description", "Resent-Date", "Resent-From", "Resent-Sender",
  "Resent-To", "Resent-Cc", "Resent-Message-ID", "In-Reply-To", "References", "List-Id", "List-Help",
  "List-Unsubscribe", "List-Unsubscribe-Post", "List-Subscribe", "List-Post", "List-Owner", "List-Archive",
].join(":");

export function dkimKeyFor(keys: readonly LoadedDkimKey[], fromDomain: string): LoadedDkimKey | undefined {
  return keys.find((k) => k.domain === fromDomain) ?? keys.find((k) => k.subdomains && fromDomain.endsWith(`.${k.domain}`));
}

/** MX lookup (RFC 5321 §5.1); injectable so tests can serve their own DNS. */
export type MxResolver = (domain: string) => Promise<Array<{ exchange: string; priority: number }>>;

export interface OutboundDeps {
  readonly config: EmailConfig;
  readonly store: AdapterStateStore;
  readonly ids: IdMap;
  readonly mappings: () => DomainMappings;
  readonly blobs: BlobStore;
  /** The gateway's media service: limits and links for files too large to attach. */
  readonly media?: MediaPort | undefined;
  readonly log: Logger;
  readonly dkimKeys: readonly LoadedDkimKey[];
  readonly resolveMx?: MxResolver | undefined;
}

export function verpAddress(bounceAddress: string, id: CanonicalId): string {
  const at = bounceAddress.lastIndexOf("@");
  return `${bounceAddress.slice(0, at)}+${id}${bounceAddress.slice(at)}`;
}

/** The envelope and headers every Parley mail shares, sent through the relay or the MX. */
export class MailSender {
  constructor(private readonly deps: Pick<OutboundDeps, "config" | "dkimKeys" | "log" | "resolveMx">) {}

  private transportFor(host: string, port: number, pool = false) {
    const o = this.deps.config.outbound;
    const passwordFile = o.passwordFile;
    return createTransport({
      ...(pool ? { pool: true as const, maxConnections: 1, maxMessages: Infinity } : {}),
      host, port, secure: false, name: this.deps.config.hostname,
      requireTLS: o.requireTLS, ignoreTLS: !o.opportunisticTLS && !o.requireTLS,
      connectionTimeout: o.connectionTimeoutMs, greetingTimeout: o.connectionTimeoutMs, socketTimeout: 4 * o.connectionTimeoutMs,
      ...(o.user && passwordFile ? { auth: { user: o.user, pass: readFileSync(passwordFile, "utf8").trim() } } : {}),
    });
  }

  private async hostsFor(recipient: string): Promise<Array<{ host: string; port: number }>> {
    const o = this.deps.config.outbound;
    if (o.mode === "relay") return [{ host: o.host, port: o.port }];
    const domain = recipient.slice(recipient.lastIndexOf("@") + 1);
    const mx = await (this.deps.resolveMx ?? resolveMx)(domain).catch(() => []);
    // RFC 5321 §5.1: no MX records → the domain itself is the implicit MX.
    const port = o.mxPort;
    return mx.length === 0 ? [{ host: domain, port }] : [...mx].sort((a, b) => a.priority - b.priority).map((r) => ({ host: r.exchange, port }));
  }

  /** Whether a DKIM key covers `domain`. */
  canSign(domain: string): boolean {
    return dkimKeyFor(this.deps.dkimKeys, domain) !== undefined;
  }

  private dkimFor(fromDomain: string | undefined) {
    const key = fromDomain === undefined ? undefined : dkimKeyFor(this.deps.dkimKeys, fromDomain);
    return key ? { domainName: key.domain, keySelector: key.selector, privateKey: key.privateKey, headerFieldNames: DKIM_FIELDS } : undefined;
  }

  /**
   * Send several mails for one recipient domain over one connection, in order, from `start`.
   * `onSent(i)` after each one the relay took; a recipient refused for good (5xx) is `onRefused(i)`
   * and the rest go on. Throws a classified DeliveryError when every host failed (transient) —
   * the caller resumes from the last `onSent` — or when every mail was refused.
   */
  async sendEach(mails: readonly MailOptions[], fromDomain: string | undefined, recipient: string, start: number, onSent: (i: number) => Promise<void>, onRefused: (i: number, e: unknown) => void): Promise<void> {
    const dkim = this.dkimFor(fromDomain);
    let i = start;
    let refused = 0;
    let last: unknown;
    for (const { host, port } of await this.hostsFor(recipient)) {
      const transport = this.transportFor(host, port, true);
      try {
        for (; i < mails.length; i++) {
          try {
            await transport.sendMail({ ...mails[i]!, ...(dkim ? { dkim } : {}) });
            await onSent(i);
          } catch (e) {
            if (classifySendError(e).failureClass !== "permanent") throw e;
            refused++;
            onRefused(i, e);
            last = e;
          }
        }
        if (refused === mails.length - start && refused > 0) throw classifySendError(last);
        return;
      } catch (e) {
        last = e;
        if (classifySendError(e).failureClass === "permanent") throw classifySendError(e);
      } finally {
        transport.close();
      }
    }
    throw classifySendError(last);
  }

  /** Send; resolves on the relay's 250, throws a classified DeliveryError otherwise. */
  async send(mail: MailOptions, fromDomain: string | undefined, recipient: string): Promise<void> {
    const dkim = this.dkimFor(fromDomain);
    let last: unknown;
    for (const { host, port } of await this.hostsFor(recipient)) {
      const transport = this.transportFor(host, port);
      try {
        await transport.sendMail({ ...mail, ...(dkim ? { dkim } : {}) });
        return;
      } catch (e) {
        last = e;
        const err = classifySendError(e);
        if (err.failureClass === "permanent") throw err;
      } finally {
        transport.close();
      }
    }
    throw classifySendError(last);
  }
}

function subjectOf(message: Message, fromCanonical: string, previous: string | undefined): string {
  const own = message.subject && (message.subject[message.lang ?? "und"] ?? Object.values(message.subject)[0]);
  if (own) return headerSafe(own, 250);
  const base = previous ?? `Chat with ${fromCanonical}`;
  return headerSafe(previous ? (/^re:/i.test(base) ? base : `Re: ${base}`) : base, 250);
}

export class Outbound {
  private readonly sender: MailSender;
  /** Mails the SMTP server accepted from this process (a re-run after a failed Redis write does not send again). */
  private readonly relayed = new ConfirmedSends();
  constructor(private readonly deps: OutboundDeps) { this.sender = new MailSender(deps); }

  /** Deliver to a mailbox (message.to is an email endpoint). */
  async deliver(message: Message): Promise<DeliveryOutcome> {
    const m = this.deps.mappings();
    const fromAddress = toNative(message.from, m);
    const fromDomain = fromAddress.slice(fromAddress.lastIndexOf("@") + 1);
    const to = message.to.address;
    const messageId = messageIdFor(message.id, fromDomain);
    const thread = await loadThread(this.deps.store, to, fromAddress);
    const inReplyTo = (message.inReplyTo && (await this.deps.ids.nativeFor(message.inReplyTo, EMAIL, "message-id"))?.id) ?? thread?.refs.at(-1);
    const references = thread ? [...thread.refs.filter((r) => r !== inReplyTo), ...(inReplyTo ? [inReplyTo] : [])] : inReplyTo ? [inReplyTo] : [];
    const subject = subjectOf(message, message.from.address, thread?.subject);
    const files = await outboundFiles(this.deps.media, this.deps.blobs, message); // media.ts: limits, links
    const text = [plainText(message) || (files.attachments.length > 0 ? "" : "(no text)"), ...files.notes].filter((l) => l !== "").join("\n\n");
    const ownHtml = message.parts.find((p) => p.role === "html")?.body;
    const html = ownHtml !== undefined ? ownHtml + files.notes.map((n) => textToHtml(n)).join("") : textToHtml(text);
    const name = headerSafe(message.displayName ?? message.from.address, 120);
    const mail: MailOptions = {
      envelope: { from: verpAddress(this.deps.config.bounceAddress, message.id), to: [to] },
      from: { name, address: fromAddress },
      to: { name: "", address: to },
      subject,
      messageId,
      date: new Date(message.sentAt),
      text,
      html,
      attachments: files.attachments,
      headers: {
        "X-Parley-Id": message.id,
        // Already decremented by the core when it accepted the message (DESIGN §3).
        "X-Parley-Hops": String(message.hops),
        // RFC 3834 §5: a chat message a person wrote is not auto-submitted; a notice from a bot is.
        ...(message.kind === "notice" ? { "Auto-Submitted": "auto-generated" } : {}),
        // RFC 7572 §8: a gateway maps the message's language (XMPP xml:lang) to Content-Language.
        ...(message.lang ? { "Content-Language": headerSafe(message.lang) } : {}),
      },
      ...(inReplyTo ? { inReplyTo } : {}),
      ...(references.length ? { references } : {}),
    };
    // Relayed here before, its bookkeeping below or the core's `sent` marker not written (Redis
    // failed): not sent twice (src/adapter/confirmed-sends.ts); the bookkeeping is done again.
    if (!this.relayed.has(message.id, to)) {
      await this.deps.store.set(`out:${message.id}`, JSON.stringify({ from: message.from, to: message.to, messageId } satisfies OutboundRecord), OUTBOUND_RECORD_TTL_SECONDS);
      await this.sender.send(mail, fromDomain, to);
      this.relayed.add(message.id, to);
    }
    await extendThread(this.deps.store, to, fromAddress, messageId, thread?.subject ?? subject);
    const native = { network: EMAIL, kind: "message-id", id: messageId };
    await this.deps.ids.link(message.id, native);
    this.deps.log.info({ messageId: message.id, dkim: dkimKeyFor(this.deps.dkimKeys, fromDomain) !== undefined }, "relayed to SMTP");
    return { state: "relayed", nativeIds: [native] };
  }
}

export async function outboundRecord(store: AdapterStateStore, id: string): Promise<OutboundRecord | undefined> {
  const raw = await store.get(`out:${id}`);
  return raw === undefined ? undefined : (JSON.parse(raw) as OutboundRecord);
}
