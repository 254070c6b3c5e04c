/**
 * The XMPP adapter: Parley as an XEP-0114 external component of an XMPP server. One process at a
 * time owns the component link (a lease in the adapter's state store: Prosody accepts one
 * connection per component domain); the others stand by and take over when the lease expires.
 * See README.md for the XEPs, config keys and what is lossy.
 */
import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import {
  DeliveryError, type Adapter, type AdapterCapabilities, type AdapterContext, type AdapterFactory,
  type DeliveryOutcome, type HandOn, type LinkHealth,
} from "../../src/adapter/contract.js";
import type { PresenceDelivery, PresenceNotification, SubscriptionDelivery, SubscriptionNotice } from "../../src/adapter/presence.js";
import type { DeliversOverLink, IngressControl } from "../../src/adapter/ingress.js";
import type { Message } from "../../src/model/message.js";
import type { DeliveryStatus } from "../../src/model/delivery-status.js";
import { XMPP, componentDomains, toNative, xmppAddressing } from "./address.js";
import { XmppConfigSchema, type XmppConfig } from "./config.js";
import { ComponentLink } from "./connection.js";
import { handleStanza } from "./inbound.js";
import { BlockingCommand } from "./blocking.js";
import { deliverMessage, deliverStatus } from "./outbound.js";
import { deliverTyping } from "./features/outbound.js";
import type { TypingNotice } from "../../src/model/interactions.js";
import type { TypingDelivery } from "../../src/adapter/features.js";
import { PresenceState, deliverSubscription } from "./presence.js";
import { xmppDoctor } from "./doctor.js";
import { replyError, type XmppRuntime } from "./stanza.js";
import type { RoomAdapter } from "../../src/adapter/rooms.js";
import type { RoomDelivery } from "../../src/model/room-events.js";
import { Occupants } from "./muc/occupants.js";
import { roomStatusToXmpp } from "./muc/status.js";
import { handleMucStanza, joinListener } from "./muc/inbound.js";
import { deliverToMuc, typingToMuc } from "./muc/deliver.js";
import type { RoomTypingNotice } from "../../src/adapter/features.js";
import { checkMucRoom, listenToMucRoom, loadOpenRooms } from "./muc/open.js";
import { handleServiceStanza, serviceRoomOf } from "./muc/service.js";
import { deliverToServiceRoom } from "./muc/service-out.js";
import { ServiceRoomState } from "./muc/service-state.js";
import { parseServiceRoomJid } from "./muc/service-jid.js";
import { xmppProvisioning } from "./provision.js";
import { SerialInbound, settleWithin } from "./serial-inbound.js";
import { InboundJournal, type DeadHolder, type JournalEntry } from "./journal.js";
import { sendCrashNotices } from "./crash-notice.js";
import { RecentContacts } from "./recent-contacts.js";
import { ConfirmedSends } from "../../src/adapter/confirmed-sends.js";
import { errorMessage } from "../../src/errors/message.js";
import type { Profile, ProfileSource } from "../../src/adapter/profiles.js";
import type { Endpoint } from "../../src/model/address.js";
import { xmppProfile } from "./profile.js";
import { ParleyError } from "../../src/errors/parley-error.js";

export const xmppCapabilities: AdapterCapabilities = {
  presence: true,
  subscriptions: true,
  receipts: { delivered: true, displayed: true },
  subject: true,
  html: false,
  edits: true,
  maxMessageBytes: 64 * 1024,
  // Issue 18: XEP-0444, XEP-0424, XEP-0461, XEP-0085 (README).
  chat: { reactions: true, retractions: true, replies: true, typing: true, roomReadMarkers: true },
};

export const LEASE_NAME = "component-link";
/** How long a graceful stop lets the inbound stanzas being handled finish before handing the link over. */
export const HALT_MS = 750;

function bareOf(jid: string | undefined): string {
  return (jid ?? "").split("/")[0]!.toLowerCase();
}

export class XmppAdapter implements Adapter, ProfileSource, PresenceDelivery, SubscriptionDelivery, RoomAdapter, IngressControl, TypingDelivery, DeliversOverLink {
  /** The component link both reads and sends: deliveries run where the link is (src/adapter/ingress.ts). */
  readonly deliversOverLink = true as const;
  private rt: XmppRuntime | undefined;
  private presence: PresenceState | undefined;
  private occupants: Occupants | undefined;
  private service: ServiceRoomState | undefined;
  private leaseTimer: NodeJS.Timeout | undefined;
  private owner = false;
  private stopped = false;
  private ticking = false;
  readonly holder = `${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;

  constructor(private readonly config: XmppConfig) {}

  private readonly inbound = new SerialInbound();
  /** Kept across link changes: a job re-run here after a failed marker write is not sent twice (src/adapter/confirmed-sends.ts). */
  private readonly confirmed = new ConfirmedSends();
  private journal: InboundJournal | undefined;
  /** Hand a journaled stanza to its conversation's line (set in `start`). */
  private handle: (entry: JournalEntry) => void = () => undefined;
  /** Dead link holders whose recent senders are told once the link is up (crash-notice.ts). */
  private deadHolders: DeadHolder[] = [];

  /** The component link (tests inject raw bytes through it: README, "Hostile input"). */
  get link(): ComponentLink | undefined { return this.rt?.link; }
  get ownsLink(): boolean { return this.owner; }

  async start(ctx: AdapterContext): Promise<void> {
    this.stopped = false;
    this.inbound.resume();
    const domains = [...new Set([...componentDomains(ctx.mappings()), ...this.config.extraDomains])];
    const log = ctx.log.child({ module: "xmpp" });
    const contacts = new RecentContacts(ctx.state);
    const rt: XmppRuntime = {
      ctx, config: this.config, log, domains: new Set(domains), contacts, confirmed: this.confirmed,
      link: new ComponentLink(domains, {
        host: this.config.host, port: this.config.port, secret: this.config.componentSecret,
        maxStanzaBytes: this.config.maxStanzaBytes, reconnect: this.config.reconnect,
        iqTimeoutMs: this.config.confirmTimeoutMs, log,
      }, {
        // Journaled at once (journal.ts), handled from there (`handle`, below); its sender recorded
        // in the same turn (told if this process dies: crash-notice.ts), unless a linked room's.
        stanza: (el) => {
          if (!linkedRoom(el)) contacts.inbound(el);
          this.handle(journal.append(el));
        },
        rejected: (ev) => {
          log.warn({ event: "stanza-rejected", reason: ev.reason, detail: ev.detail, bytes: ev.bytes, stanza: ev.head?.name, id: ev.head?.attrs.id }, "stanza refused by bounds");
          if (ev.head) {
            const condition = ev.reason === "too-large" ? "policy-violation" : "bad-request";
            void replyError(rt, ev.head, { type: "modify", condition, text: ev.detail });
          }
        },
        online: () => {
          if (rt.link.allOnline()) this.noticeDeaths();
          if (rt.link.allOnline()) void presence.restore().then((n) => log.info({ restored: n }, "puppet presence restored"));
          if (rt.link.allOnline()) void joinListener(rt, occupants);
        },
        offline: (domain) => log.warn({ domain }, "component link offline"),
      }),
    };
    const presence = new PresenceState(rt);
    const blocking = new BlockingCommand(rt);
    const occupants = new Occupants(rt);
    const service = new ServiceRoomState(ctx.state);
    this.service = service;
    const linkedRoom = (el: { attrs: Record<string, string | undefined> }) => occupants.bridges(bareOf(el.attrs.from).toLowerCase());
    const journal = new InboundJournal(ctx.state, this.holder, this.config.lease.ttlMs, log);
    this.journal = journal;
    // One conversation at a time, in arrival order (DESIGN §3, Order); others run alongside.
    // Presence: one sender at a time (its per-resource state is shared across puppets).
    // A linked MUC room's stanzas in one line per room (occupant presence before their messages).
    this.handle = (entry) => {
      const el = entry.el;
      // A room of Parley's own MUC service (muc/service.ts): one line per room, like a linked room.
      const own = serviceRoomOf(rt, el.attrs.to) !== undefined;
      this.inbound.run(own ? `svc:${bareOf(el.attrs.to)}` : linkedRoom(el) ? `muc:${bareOf(el.attrs.from)}` : el.name === "presence" ? `p:${bareOf(el.attrs.from)}` : `${bareOf(el.attrs.from)}>${bareOf(el.attrs.to)}`,
        async () => {
          try {
            if (own) await handleServiceStanza(rt, service, el);
            else if (!(await handleMucStanza(rt, occupants, el))) await handleStanza(rt, el, presence, blocking);
          } finally {
            await entry.done();
          }
        });
    };
    this.occupants = occupants;
    this.rt = rt;
    this.presence = presence;
    await presence.load();
    await loadOpenRooms(rt, occupants);
    await this.tick();
    this.leaseTimer = setInterval(() => void this.tick(), this.config.lease.renewMs);
    if (this.owner) await this.waitOnline(10_000);
  }

  private async waitOnline(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.rt && !this.rt.link.allOnline() && Date.now() < deadline && !this.stopped) {
      await new Promise((r) => setTimeout(r, 25)); // polls the link state; the link itself reconnects
    }
  }

  /** Acquire or renew the lease; start the link when acquired, drop it when lost. */
  private async tick(): Promise<void> {
    const rt = this.rt;
    if (!rt || this.stopped || this.ticking) return;
    this.ticking = true;
    try {
      // The journal's lease first, so after a crash it lapses before the link lease (journal.ts).
      await this.journal?.renew().catch((e: unknown) => rt.log.warn({ err: errorMessage(e) }, "inbound journal lease not renewed"));
      const held = await rt.ctx.state.lease(LEASE_NAME, this.holder, this.config.lease.ttlMs);
      if (held && !this.owner && !this.stopped) {
        this.owner = true;
        rt.log.info({ holder: this.holder }, "component link lease acquired");
        // What a dead holder read and had not handled goes first, then the link (order per conversation).
        await this.journal?.open().catch((e: unknown) => rt.log.warn({ err: errorMessage(e) }, "inbound journal not opened"));
        await this.replayOrphans(this.config.lease.ttlMs);
        if (!this.stopped) rt.link.start(); // a stop meanwhile handed everything over (stopIngress)
      } else if (held && this.owner) {
        await this.replayOrphans(0);
        await rt.contacts?.trim();
      } else if (!held && this.owner) {
        this.owner = false;
        rt.log.warn({ holder: this.holder }, "component link lease lost; disconnecting");
        await rt.link.stop();
        this.journal?.drain(this.config.lease.renewMs);
      }
    } catch (e) {
      rt.log.warn({ err: errorMessage(e) }, "lease check failed; keeping the current state");
    } finally {
      this.ticking = false;
    }
  }

  /** Hand the entries of journals whose holder died to the handling, oldest first (journal.ts). */
  private async replayOrphans(waitMs: number): Promise<void> {
    const journal = this.journal;
    if (!journal) return;
    try {
      for (const entry of await journal.claimOrphans(waitMs)) this.handle(entry);
      this.deadHolders.push(...journal.takeDied());
      if (this.rt?.link.allOnline()) this.noticeDeaths();
    } catch (e) {
      this.rt?.log.warn({ err: errorMessage(e) }, "inbound journals not checked; tried again on the next lease check");
    }
  }

  /** Tell the recent senders of dead link holders (crash-notice.ts); the window ends now, the link being up. */
  private noticeDeaths(): void {
    const rt = this.rt;
    if (!rt || this.deadHolders.length === 0) return;
    const died = this.deadHolders;
    this.deadHolders = [];
    const counted = rt.ctx.counter?.("parley_crash_notices_total", "users told that messages they sent may be lost: the XMPP link holder died (adapters/xmpp/crash-notice.ts)");
    void sendCrashNotices({ state: rt.ctx.state, link: rt.link, log: rt.log, domains: rt.domains, ...(counted ? { counted } : {}) }, died, Date.now());
  }

  /**
   * The first step of a graceful stop (src/adapter/ingress.ts): hand the link over at once, not
   * after the delivery workers drained. The link is the ingress: every moment it stays up, Prosody
   * hands this process stanzas it may not have time to store before it exits. The inbound handling
   * halts first (serial-inbound.ts): stanzas being handled finish, up to {@link HALT_MS}, while the
   * link can still carry their errors; the rest stays in the journal, which the next holder
   * replays before its own stanzas, so a conversation keeps its order across the handover
   * (journal.ts, `handOver`). Deliveries written before are confirmed by the server first (up to
   * 1 s), so they finish; later XMPP deliveries fail as transient here and run on the process that
   * takes the link over.
   */
  async stopIngress(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.leaseTimer);
    const rt = this.rt;
    if (!rt) return;
    const owner = this.owner;
    const [running] = await Promise.all([
      this.inbound.halt(HALT_MS),
      owner ? settleWithin(this.presence?.withdrawAll() ?? Promise.resolve(), 500) : Promise.resolve(),
    ]);
    if (running > 0) rt.log.warn({ stanzas: running }, "inbound stanzas still being handled at the handover: the next link holder replays them too (recognised as duplicates)");
    if (owner) {
      // Hand the link over (README, "Several processes"): close it, then release the lease at
      // once, so a standby connects on its next lease check instead of after the lease's TTL.
      await rt.link.stop(1_000);
      this.owner = false;
    }
    // Before the link lease: the successor finds the journal handed over when it takes the link.
    await this.journal?.handOver().catch((e: unknown) => rt.log.warn({ err: errorMessage(e) }, "inbound journal not handed over"));
    if (owner) {
      try {
        await rt.ctx.state.releaseLease(LEASE_NAME, this.holder);
      } catch (e) {
        rt.log.warn({ err: errorMessage(e) }, "lease not released; it expires by itself");
      }
    }
  }

  async stop(): Promise<void> {
    await this.stopIngress();
    // A stanza still being handled after the halt (its replay is the successor's) finishes while Redis is open, briefly.
    await this.inbound.drain(500);
    await this.journal?.close();
  }

  private runtime(): XmppRuntime {
    if (!this.rt || this.stopped) throw new DeliveryError("transient", "unavailable", "the XMPP adapter is not running");
    if (!this.owner) throw new DeliveryError("transient", "unavailable", "another Parley process holds the XMPP component link", { retryAfterMs: 1000 });
    return this.rt;
  }

  async deliverMessage(message: Message, handOn?: HandOn): Promise<DeliveryOutcome> { return deliverMessage(this.runtime(), message, handOn); }
  async deliverPresence(n: PresenceNotification): Promise<void> {
    this.runtime();
    return this.presence!.deliver(n);
  }
  /** A room activity in a linked MUC room (issue 12, muc/deliver.ts). */
  async deliverRoom(delivery: RoomDelivery): Promise<DeliveryOutcome> {
    const rt = this.runtime();
    if (parseServiceRoomJid(delivery.target.id, rt.ctx.mappings()) !== undefined) return deliverToServiceRoom(rt, this.service!, delivery);
    return deliverToMuc(rt, this.occupants!, delivery);
  }
  /** Parley hosts the rooms of its own MUC service (muc/service.ts), not the MUC rooms of the XMPP server. */
  hostsRoom(native: string): boolean {
    return this.rt !== undefined && parseServiceRoomJid(native, this.rt.ctx.mappings()) !== undefined;
  }
  /** Open rooms (issue 12, muc/open.ts): may this MUC room be opened, then listen to it. */
  async checkOpenRoom(room: string): Promise<void> { return checkMucRoom(this.openRuntime(), room); }
  async listenToRoom(room: string): Promise<void> { return listenToMucRoom(this.openRuntime(), this.occupants!, room); }
  private openRuntime(): XmppRuntime {
    try {
      return this.runtime();
    } catch (e) {
      throw new ParleyError("PARLEY_UNAVAILABLE", errorMessage(e), {}, { cause: e });
    }
  }
  async deliverSubscription(n: SubscriptionNotice): Promise<void> { return deliverSubscription(this.runtime(), n); }
  async deliverStatus(status: DeliveryStatus): Promise<void> {
    // A room message's failure (issue 12) is told by muc/status.ts: the room cannot be its sender.
    if (status.recipient.network === XMPP && this.occupants?.bridges(status.recipient.address)) return roomStatusToXmpp(this.runtime(), this.occupants, status);
    return deliverStatus(this.runtime(), status);
  }

  async deliverTyping(notice: TypingNotice): Promise<void> { return deliverTyping(this.runtime(), notice); }
  /** A member's typing in a linked MUC room (issue 18 in rooms, muc/features-out.ts). */
  async deliverRoomTyping(notice: RoomTypingNotice): Promise<void> {
    const rt = this.runtime();
    if (parseServiceRoomJid(notice.room.id, rt.ctx.mappings()) !== undefined) return; // not shown in service rooms (yet)
    return typingToMuc(rt, this.occupants!, notice);
  }

  /** An XMPP user's vCard, read from their server (profile.ts); undefined while this process has no link. */
  async profileOf(who: Endpoint): Promise<Profile | undefined> {
    if (!this.rt || !this.owner || this.stopped) return undefined;
    return xmppProfile(this.rt, who, this.presence?.avatars.hashOf(toNative(who, this.rt.ctx.mappings()).toLowerCase()));
  }

  health(): LinkHealth {
    if (!this.rt || this.stopped) return { ready: false, detail: "stopped" };
    if (!this.owner) return { ready: false, detail: "standby: another Parley process holds the component link" };
    const online = this.rt.link.onlineDomains();
    const all = this.rt.link.domains;
    // A frozen server keeps the TCP link up but answers nothing: not ready, so this process stops
    // taking XMPP jobs (src/gateway.ts) and /readyz says why.
    const silentMs = this.rt.link.unansweredMs();
    if (silentMs > this.config.confirmTimeoutMs) return { ready: false, detail: `component link up, but the XMPP server has not answered for ${silentMs} ms` };
    // A room refusing or having removed Parley is shown, not made unready: one bad room must not take the gateway out (docs/rooms.md).
    const rooms = this.occupants?.unhealthy() ?? [];
    const refused = rooms.map((r) => `; room ${r.room}: ${r.detail}`).join("");
    return { ready: online.length === all.length, detail: `component link: ${online.length}/${all.length} domains online${refused}`, ...(rooms.length > 0 ? { rooms } : {}) };
  }
}

export const xmppAdapter = {
  id: XMPP,
  capabilities: xmppCapabilities,
  configSchema: XmppConfigSchema,
  addressing: xmppAddressing,
  docs: { readme: "adapters/xmpp/README.md" },
  provisioning: xmppProvisioning,
  doctor: xmppDoctor,
  create(config: XmppConfig): Adapter {
    return new XmppAdapter(XmppConfigSchema.parse(config));
  },
} satisfies AdapterFactory<XmppConfig>;
