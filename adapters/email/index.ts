/**
 * The email adapter (issue 5): Parley's own SMTP listener with sender authentication in,
 * nodemailer to a relay or MX out, threads, DSNs both ways. Email has no presence
 * (RFC 2779 2.1.2): an address is an inbox, never shown online or offline, never a watcher, so
 * the adapter implements neither optional presence interface (src/adapter/presence.ts).
 */
import type { DNSResolver } from "mailauth";
import {
  DeliveryError, type Adapter, type AdapterCapabilities, type AdapterContext, type AdapterFactory,
  type DeliveryOutcome,
} from "../../src/adapter/contract.js";
import type { DeliveryStatus } from "../../src/model/delivery-status.js";
import type { Message } from "../../src/model/message.js";
import type { RoomAdapter } from "../../src/adapter/rooms.js";
import type { RoomDelivery } from "../../src/model/room-events.js";
import { EMAIL, emailAddressing } from "./address.js";
import { DirectoryBlobStore, MediaBlobStore, type BlobStore } from "./blobs.js";
import { EmailConfigSchema, type EmailConfig } from "./config.js";
import { emailDoctor } from "./doctor.js";
import { sendFailureDsn } from "./dsn-out.js";
import { Inbound } from "./inbound.js";
import { loadDkimKeys, MailSender, Outbound, type MxResolver } from "./outbound.js";
import { SmtpListener } from "./smtp-in.js";
import { emailProvisioning } from "./provision.js";
import { ListInbound } from "./list/inbound.js";
import { ListMembers } from "./list/members.js";
import { ListOutbound } from "./list/outbound.js";
import { sendListNotice } from "./list/notice.js";
import { listCommand } from "./list/command.js";
import { loadOneClick, OneClickListener } from "./list/one-click.js";
import { asReactionNotice, capabilitiesWithReactionNotices } from "./reactions.js";

export const emailCapabilities: AdapterCapabilities = {
  presence: false,
  subscriptions: false,
  receipts: { delivered: true, displayed: false },
  subject: true,
  html: true,
  edits: false,
  maxMessageBytes: 25 * 1024 * 1024,
  // Issue 18: what of reactions, retractions, replies and typing this network shows (README).
  chat: { reactions: false, retractions: false, replies: true, typing: false },
};

/** What tests (and a future DNS cache) may inject; production uses the defaults. */
export interface EmailAdapterDeps {
  /** DNS for SPF/DKIM/DMARC lookups (mailauth's `resolver`); default: the system resolver. */
  readonly resolver?: DNSResolver;
  readonly blobs?: BlobStore;
  /** MX lookups for `outbound.mode: mx`; default: the system resolver. */
  readonly resolveMx?: MxResolver;
}

export class EmailAdapter implements Adapter, RoomAdapter {
  private ctx: AdapterContext | undefined;
  private listener: SmtpListener | undefined;
  private outbound: Outbound | undefined;
  private sender: MailSender | undefined;
  private lists: ListOutbound | undefined;
  /** Parley is the list server: a member's list mail goes back out to the other members (src/adapter/rooms.ts). */
  hostsRoom(): boolean { return true; }
  /** The port the listener bound (useful with `listen.port: 0`). */
  port = 0;
  private oneClick: OneClickListener | undefined;
  /** The port the one-click unsubscribe listener bound (0 when it is off). */
  oneClickPort = 0;

  /** Reactions are shown (as notice mails) only when the admin turned `reactionNotices` on. */
  readonly capabilities: AdapterCapabilities;

  constructor(readonly config: EmailConfig, private readonly deps: EmailAdapterDeps = {}) {
    this.capabilities = capabilitiesWithReactionNotices(emailCapabilities, config.reactionNotices);
  }

  async start(ctx: AdapterContext): Promise<void> {
    if (this.outbound) return;
    this.ctx = ctx;
    const log = ctx.log.child({ module: "email" });
    const dkimKeys = loadDkimKeys(this.config);
    const resolveMx = this.deps.resolveMx;
    // The gateway's one blob store; `blobDir` only when the context offers none (some tests).
    const blobs: BlobStore = this.deps.blobs ?? (ctx.media ? new MediaBlobStore(ctx.media) : new DirectoryBlobStore(this.config.blobDir));
    this.sender = new MailSender({ config: this.config, dkimKeys, log, resolveMx });
    this.outbound = new Outbound({ config: this.config, store: ctx.state, ids: ctx.ids, mappings: () => ctx.mappings(), blobs, media: ctx.media, log, dkimKeys, resolveMx });
    const members = new ListMembers(ctx.state);
    const sender = this.sender;
    const oneClick = await loadOneClick(this.config);
    this.lists = new ListOutbound({ config: this.config, store: ctx.state, ids: ctx.ids, members, mappings: () => ctx.mappings(), blobs, media: ctx.media, sender, log, oneClick });
    if (ctx.ingress === false) return log.info({ dkimKeys: dkimKeys.length }, "email adapter started send-only (workers role)");
    if (oneClick && this.config.oneClick) {
      this.oneClick = new OneClickListener({ config: this.config.oneClick, oneClick, members, log });
      this.oneClickPort = await this.oneClick.start();
      log.info({ port: this.oneClickPort, publicUrl: oneClick.base }, "one-click unsubscribe listener ready (RFC 8058)");
    }
    const lists = new ListInbound({ ctx, members, confirm: (list, to, text) => sendListNotice(sender, this.config, list, ctx.mappings().rooms?.find(EMAIL, list)?.name ?? list, to, text) });
    const inbound = new Inbound({ config: this.config, ctx, blobs, resolver: this.deps.resolver, reportFailure: (s) => this.deliverStatus(s), lists });
    this.listener = new SmtpListener(this.config, ctx, inbound);
    this.port = await this.listener.start();
    log.info({ port: this.port, dkimKeys: dkimKeys.length }, "SMTP listener ready");
  }

  /** Close the SMTP listener (MTAs keep the mail and retry); outbound mail keeps going (src/adapter/ingress.ts). */
  async stopIngress(): Promise<void> {
    const l = this.listener;
    this.listener = undefined;
    const o = this.oneClick;
    this.oneClick = undefined;
    await Promise.all([l?.stop(), o?.stop()]);
  }

  async stop(): Promise<void> {
    await this.stopIngress();
    // Deliveries after stop wait for the next start (transient), like those before the first.
    this.outbound = undefined;
    this.sender = undefined;
    this.lists = undefined;
  }

  async deliverMessage(message: Message): Promise<DeliveryOutcome> {
    if (!this.outbound) throw new DeliveryError("transient", "unavailable", "email adapter not started");
    return this.outbound.deliver(asReactionNotice(message));
  }

  /** A room activity for a linked room's list (issue 12, list/outbound.ts): one mail to its members. */
  async deliverRoom(delivery: RoomDelivery): Promise<DeliveryOutcome> {
    if (!this.lists) throw new DeliveryError("transient", "unavailable", "email adapter not started");
    return this.lists.deliver(delivery);
  }

  /** Only failures go back, as a DSN, and only to senders whose SPF or DKIM aligned (RFC 2779 T-5.4.1). */
  async deliverStatus(status: DeliveryStatus): Promise<void> {
    if (!this.ctx || !this.sender) throw new DeliveryError("transient", "unavailable", "email adapter not started");
    if (status.state !== "failed") return;
    await sendFailureDsn(status, { config: this.config, store: this.ctx.state, sender: this.sender, log: this.ctx.log });
  }

  health() {
    if (this.listener) return { ready: true, detail: `SMTP listening on ${this.port}${this.oneClick ? `; one-click unsubscribe on ${this.oneClickPort}` : ""}` };
    return this.outbound ? { ready: true, detail: "send-only (workers role)" } : { ready: false, detail: "stopped" };
  }
}

/** A factory whose adapters use `deps` (tests inject a DNS map; production uses {@link emailAdapter}). */
export function emailAdapterFactory(deps: EmailAdapterDeps = {}) {
  return {
    id: EMAIL,
    capabilities: emailCapabilities,
    configSchema: EmailConfigSchema,
    addressing: emailAddressing,
    docs: { readme: "adapters/email/README.md" },
    provisioning: emailProvisioning,
    doctor: emailDoctor,
    commands: [listCommand],
    create(config: EmailConfig): Adapter {
      return new EmailAdapter(config, deps);
    },
  } satisfies AdapterFactory<EmailConfig>;
}

export const emailAdapter = emailAdapterFactory();

export { EmailConfigSchema, type EmailConfig } from "./config.js";
