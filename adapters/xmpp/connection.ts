/**
 * The component link (XEP-0114): one TCP connection per component domain (Prosody accepts one
 * connection per domain), each authenticated by the handshake `SHA1(streamId + secret)` (XEP-0114
 * §3). A typed wrapper around xmpp.js's `Component` keeps the untyped library here: nothing else
 * imports it. Bytes from the socket pass through {@link StanzaGuard} before the parser.
 *
 * Reconnects use exponential backoff with full jitter (STYLE habit 10) instead of xmpp.js's fixed
 * 1 s; each attempt uses a fresh `Component`, so a stale one (see STACK.md: a failed handshake
 * keeps firing errors) can never act again.
 */
import { randomBytes } from "node:crypto";
import componentCore from "@xmpp/component-core";
import xml from "@xmpp/xml";
import type { Logger } from "../../src/log/logger.js";
import { StanzaGuard, type GuardEvent } from "./bounds.js";
import { xmlSafeElement } from "./xml-safe.js";

export type XmlElement = xml.Element;
export { xml };

type Component = InstanceType<typeof componentCore.Component>;

export const NS_PING = "urn:xmpp:ping";

export interface LinkHandlers {
  /** A parsed stanza arrived on the link of `domain`. */
  stanza(el: XmlElement, domain: string): void;
  /** The guard refused a stanza (too large, restricted or malformed XML). */
  rejected(ev: Extract<GuardEvent, { kind: "reject" }>, domain: string): void;
  online(domain: string): void;
  offline(domain: string): void;
}

export interface LinkOptions {
  readonly host: string;
  readonly port: number;
  readonly secret: string;
  readonly maxStanzaBytes: number;
  readonly reconnect: { readonly baseMs: number; readonly maxMs: number };
  readonly iqTimeoutMs: number;
  readonly log: Logger;
}

/** Backoff before attempt `n` (1-based): full jitter over min(max, base·2ⁿ⁻¹). */
export function backoffMs(n: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const cap = Math.min(maxMs, baseMs * 2 ** Math.min(n - 1, 20));
  return Math.round(cap / 2 + (random() * cap) / 2);
}

class DomainLink {
  private entity: Component | undefined;
  private guard: StanzaGuard;
  private attempt = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  online = false;

  constructor(readonly domain: string, private readonly opts: LinkOptions, private readonly handlers: LinkHandlers) {
    this.guard = new StanzaGuard(opts.maxStanzaBytes);
  }

  start(): void {
    this.stopped = false;
    void this.connect();
  }

  private dispose(): void {
    const e = this.entity;
    this.entity = undefined;
    if (!e) return;
    e.removeAllListeners("online");
    e.removeAllListeners("disconnect");
    e.removeAllListeners("stanza");
    e.removeAllListeners("nonza");
    e.removeAllListeners("open");
    e.on("error", () => undefined);
    e.socket?.destroy();
  }

  private wasOnline(): void {
    if (!this.online) return;
    this.online = false;
    this.handlers.offline(this.domain);
  }

  private schedule(): void {
    this.dispose();
    this.wasOnline();
    if (this.stopped || this.timer) return;
    this.attempt++;
    const delay = backoffMs(this.attempt, this.opts.reconnect.baseMs, this.opts.reconnect.maxMs);
    this.opts.log.info({ domain: this.domain, attempt: this.attempt, delayMs: delay }, "component link reconnect scheduled");
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.connect();
    }, delay);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    this.dispose();
    const entity = new componentCore.Component({ service: `xmpp://${this.opts.host}:${this.opts.port}`, domain: this.domain });
    this.entity = entity;
    this.guard = new StanzaGuard(this.opts.maxStanzaBytes);
    entity._onData = (data: Buffer) => this.onData(entity, data);
    entity.on("error", (err: Error) => {
      this.opts.log.warn({ domain: this.domain, err: err.message }, "component link error");
    });
    entity.on("open", (el: XmlElement) => {
      // XEP-0114 §3: the handshake answers the server's stream id.
      entity.authenticate(el.attrs.id ?? "", this.opts.secret).catch((err: Error) => {
        this.opts.log.error({ domain: this.domain, err: err.message }, "component handshake refused");
        entity.socket?.destroy();
      });
    });
    entity.on("online", () => {
      this.attempt = 0;
      this.online = true;
      this.opts.log.info({ domain: this.domain }, "component link online");
      this.handlers.online(this.domain);
    });
    entity.on("disconnect", () => {
      if (this.entity === entity) this.schedule();
    });
    entity.on("stanza", (el: XmlElement) => this.handlers.stanza(el, this.domain));
    // Top-level elements that are not stanzas (other than the handshake and stream errors) go to
    // the same handler, which logs and drops them.
    entity.on("nonza", (el: XmlElement) => {
      if (el.name !== "handshake" && el.name !== "stream:error" && el.name !== "stream:features") this.handlers.stanza(el, this.domain);
    });
    // RFC 6120 §4.4: the server closed its stream; close the socket too, and reconnect.
    entity.on("close", () => {
      if (this.entity === entity && !this.stopped) entity.socket?.destroy();
    });
    try {
      await entity.start();
    } catch (err) {
      this.opts.log.warn({ domain: this.domain, err: (err as Error).message }, "component link could not start");
      if (this.entity === entity) this.schedule();
    }
  }

  /** Socket bytes → guard → parser (only whole, bounded, allowed stanzas reach ltx). */
  onData(entity: Component, data: Buffer): void {
    for (const ev of this.guard.push(data)) {
      if (ev.kind === "pass") entity.parser?.write(ev.text);
      else if (ev.kind === "reject") this.handlers.rejected(ev, this.domain);
      else {
        this.opts.log.error({ domain: this.domain, detail: ev.detail }, "component stream unrecoverable; reconnecting");
        entity.socket?.destroy();
      }
    }
  }

  /** Test and diagnostics door: feed bytes as if they came from the socket. */
  inject(data: Buffer): void {
    if (this.entity) this.onData(this.entity, data);
  }

  async send(el: XmlElement): Promise<void> {
    if (!this.entity || !this.online) throw new Error(`component link for ${this.domain} is down`);
    // Issue 11 class 1: nothing XML cannot carry ever reaches the socket (xml-safe.ts).
    const replaced = xmlSafeElement(el);
    if (replaced > 0) this.opts.log.info({ domain: this.domain, stanza: el.name, id: el.attrs.id, replaced }, "characters XML cannot carry replaced with U+FFFD");
    await this.entity.send(el);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    const e = this.entity;
    if (e && this.online) {
      try {
        await e.stop();
      } catch {
        // the socket is destroyed below either way
      }
    }
    this.dispose();
    this.wasOnline();
  }
}

/** All component domains' links, with request/response tracking for IQs Parley sends. */
export class ComponentLink {
  private readonly links = new Map<string, DomainLink>();
  private readonly pendingIq = new Map<string, { resolve: (el: XmlElement) => void; timer: NodeJS.Timeout }>();
  private readonly confirms = new Map<string, { inflight?: Promise<void>; queued?: Promise<void> }>();

  constructor(domains: readonly string[], private readonly opts: LinkOptions, private readonly handlers: LinkHandlers) {
    const wrapped: LinkHandlers = { ...handlers, stanza: (el, d) => this.onStanza(el, d) };
    for (const d of domains) this.links.set(d, new DomainLink(d, opts, wrapped));
  }

  get domains(): string[] { return [...this.links.keys()]; }

  start(): void { for (const l of this.links.values()) l.start(); }

  async stop(): Promise<void> {
    await Promise.all([...this.links.values()].map((l) => l.stop()));
    for (const [id, p] of this.pendingIq) {
      clearTimeout(p.timer);
      this.pendingIq.delete(id);
    }
  }

  isOnline(domain: string): boolean { return this.links.get(domain)?.online ?? false; }
  allOnline(): boolean { return [...this.links.values()].every((l) => l.online); }
  onlineDomains(): string[] { return [...this.links.values()].filter((l) => l.online).map((l) => l.domain); }

  private onStanza(el: XmlElement, domain: string): void {
    const id = el.attrs.id;
    if (el.name === "iq" && (el.attrs.type === "result" || el.attrs.type === "error") && id !== undefined) {
      const p = this.pendingIq.get(id);
      if (p) {
        clearTimeout(p.timer);
        this.pendingIq.delete(id);
        p.resolve(el);
        return;
      }
    }
    this.handlers.stanza(el, domain);
  }

  /** Send a stanza on the link of its `from` domain. Rejects when that link is down. */
  async send(el: XmlElement): Promise<void> {
    const from = el.attrs.from ?? "";
    const domain = from.slice(from.indexOf("@") + 1).split("/")[0]!;
    const link = this.links.get(domain);
    if (!link) throw new Error(`no component link for ${domain}`);
    await link.send(el);
  }

  /** Send an IQ get/set and resolve with its result or error stanza. */
  async request(el: XmlElement, timeoutMs = this.opts.iqTimeoutMs): Promise<XmlElement> {
    const id = el.attrs.id ?? `parley-iq-${randomBytes(6).toString("hex")}`;
    el.attrs.id = id;
    const answer = new Promise<XmlElement>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pendingIq.delete(id);
        reject(new Error(`no answer to iq ${id} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pendingIq.set(id, { resolve, timer });
    });
    try {
      await this.send(el);
    } catch (e) {
      clearTimeout(this.pendingIq.get(id)?.timer);
      this.pendingIq.delete(id);
      throw e;
    }
    return answer;
  }

  /**
   * Resolve once the server has processed everything sent so far from `fromDomain` toward
   * `serverDomain`: an XEP-0199 ping sent after those stanzas on the same ordered TCP stream is
   * answered only after them. The component protocol has no acks; this narrows what a crash of
   * the server can lose (README, "What can be lost"). Concurrent callers share pings.
   */
  confirm(fromDomain: string, serverDomain: string): Promise<void> {
    const key = `${fromDomain}|${serverDomain}`;
    const c = this.confirms.get(key) ?? {};
    this.confirms.set(key, c);
    const ping = async () => {
      const res = await this.request(xml("iq", { type: "get", from: fromDomain, to: serverDomain }, xml("ping", { xmlns: NS_PING })));
      // Any answer (result, or an error such as service-unavailable) proves the stanzas before it were read.
      if (res.attrs.type !== "result" && res.attrs.type !== "error") throw new Error("unexpected ping answer");
    };
    if (!c.inflight) {
      c.inflight = ping().finally(() => { c.inflight = undefined; });
      return c.inflight;
    }
    c.queued ??= c.inflight.catch(() => undefined).then(() => {
      c.queued = undefined;
      return this.confirm(fromDomain, serverDomain);
    });
    return c.queued;
  }

  /** Feed raw bytes into a domain's link as if the server sent them (hostile-corpus tests). */
  inject(domain: string, data: Buffer | string): void {
    this.links.get(domain)?.inject(typeof data === "string" ? Buffer.from(data) : data);
  }
}
