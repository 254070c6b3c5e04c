/**
 * The component link (XEP-0114): one TCP connection per component domain (Prosody accepts one
 * connection per domain), each authenticated by the handshake `SHA1(streamId + secret)` (XEP-0114
 * §3). A typed wrapper around xmpp.js's `Component` keeps the untyped library here: nothing else
 * imports it. Bytes from the socket pass through {@link StanzaGuard} before the parser.
 *
 * Each domain's connection is a {@link DomainLink} (domain-link.ts: reconnects, the guard).
 */
import { randomBytes } from "node:crypto";
import xml from "@xmpp/xml";
import { DomainLink, type LinkHandlers, type LinkOptions } from "./domain-link.js";

export type XmlElement = xml.Element;
export { xml };

export const NS_PING = "urn:xmpp:ping";
export { backoffMs } from "./domain-link.js";

export type { LinkHandlers, LinkOptions } from "./domain-link.js";

/** A ping that got no answer in time (the server may be frozen; the link itself is still up). */
export class PingTimeout extends Error {}

interface PendingIq { readonly domain: string; resolve(el: XmlElement): void; reject(e: Error): void; readonly timer: NodeJS.Timeout }

/**
 * All component domains' links, with request/response tracking for IQs Parley sends, and how long
 * each link's server has left a request unanswered (readiness: a frozen server is not ready).
 */
export class ComponentLink {
  private readonly links = new Map<string, DomainLink>();
  private readonly pendingIq = new Map<string, PendingIq>();
  private readonly confirms = new Map<string, { inflight?: Promise<void>; queued?: Promise<void> }>();
  /** Per domain: since when a request has waited for an answer (cleared by any answer). */
  private readonly awaitingSince = new Map<string, number>();
  /** Per domain: the server domain last pinged, so an idle link is still checked (keepalive). */
  private readonly pingTargets = new Map<string, string>();
  private keepalive: NodeJS.Timeout | undefined;
  /** Names this process's connections in channels (a standby's generation 1 is not ours). */
  private readonly nonce = randomBytes(6).toString("hex");

  constructor(domains: readonly string[], private readonly opts: LinkOptions, private readonly handlers: LinkHandlers) {
    const wrapped: LinkHandlers = {
      ...handlers,
      stanza: (el, d) => this.onStanza(el, d),
      offline: (d) => { this.failPending(d, new Error(`component link for ${d} went down`)); handlers.offline(d); },
    };
    for (const d of domains) this.links.set(d, new DomainLink(d, opts, wrapped));
  }

  get domains(): string[] { return [...this.links.keys()]; }

  start(): void {
    for (const l of this.links.values()) l.start();
    clearInterval(this.keepalive);
    this.keepalive = setInterval(() => this.ping(), Math.max(250, this.opts.iqTimeoutMs / 2));
    this.keepalive.unref();
  }

  /**
   * Close every link. With `confirmWithinMs`, first wait (that long at most) for the server to
   * confirm what was written: a delivery waiting on its confirm then finishes instead of failing
   * and being sent again by the next link holder (a visible duplicate).
   */
  async stop(confirmWithinMs = 0): Promise<void> {
    clearInterval(this.keepalive);
    if (confirmWithinMs > 0) {
      const confirms = [...this.pingTargets].filter(([from]) => this.isOnline(from)).map(([from, server]) => this.confirm(from, server).catch(() => undefined));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all(confirms), new Promise((r) => { timer = setTimeout(r, confirmWithinMs); })]);
      clearTimeout(timer);
    }
    await Promise.all([...this.links.values()].map((l) => l.stop()));
    for (const d of this.links.keys()) this.failPending(d, new Error(`component link for ${d} stopped`));
  }

  isOnline(domain: string): boolean { return this.links.get(domain)?.online ?? false; }
  allOnline(): boolean { return [...this.links.values()].every((l) => l.online); }
  onlineDomains(): string[] { return [...this.links.values()].filter((l) => l.online).map((l) => l.domain); }
  /** The live connection's generation for `domain`, or -1 while it is down. */
  generation(domain: string): number {
    const l = this.links.get(domain);
    return l?.online ? l.generation : -1;
  }

  /** Names one connection (hand-on's channel, src/adapter/contract.ts): equal strings, same ordered stream. */
  channel(domain: string, generation: number): string {
    return `xmpp:${domain}:${this.nonce}:${generation}`;
  }

  /** The longest time any online link's server has left a request unanswered (0: none waiting). */
  unansweredMs(now = Date.now()): number {
    let worst = 0;
    for (const [d, since] of this.awaitingSince) if (this.isOnline(d)) worst = Math.max(worst, now - since);
    return worst;
  }

  private failPending(domain: string, err: Error): void {
    this.awaitingSince.delete(domain);
    for (const [id, p] of this.pendingIq) {
      if (p.domain !== domain) continue;
      clearTimeout(p.timer);
      this.pendingIq.delete(id);
      p.reject(err);
    }
  }

  /** Keepalive: ping each idle online link's last server, so a frozen server shows in readiness. */
  private ping(): void {
    for (const [from, server] of this.pingTargets) {
      if (this.isOnline(from) && !this.awaitingSince.has(from)) this.confirm(from, server).catch(() => undefined);
    }
  }

  private onStanza(el: XmlElement, domain: string): void {
    const id = el.attrs.id;
    if (el.name === "iq" && (el.attrs.type === "result" || el.attrs.type === "error") && id !== undefined) {
      const p = this.pendingIq.get(id);
      if (p) {
        clearTimeout(p.timer);
        this.pendingIq.delete(id);
        this.awaitingSince.delete(p.domain);
        p.resolve(el);
        return;
      }
    }
    this.handlers.stanza(el, domain);
  }

  /** Send a stanza on the link of its `from` domain; resolves with the connection's generation. Rejects when that link is down. */
  async send(el: XmlElement): Promise<number> {
    const link = this.links.get(domainOfFrom(el));
    if (!link) throw new Error(`no component link for ${domainOfFrom(el)}`);
    return link.send(el);
  }

  /** Send an IQ get/set and resolve with its result or error stanza. */
  async request(el: XmlElement, timeoutMs = this.opts.iqTimeoutMs): Promise<XmlElement> {
    const id = el.attrs.id ?? `parley-iq-${randomBytes(6).toString("hex")}`;
    el.attrs.id = id;
    const domain = domainOfFrom(el);
    const answer = new Promise<XmlElement>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pendingIq.delete(id);
        reject(new PingTimeout(`no answer to iq ${id} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pendingIq.set(id, { domain, resolve, reject, timer });
    });
    try {
      await this.send(el);
      if (!this.awaitingSince.has(domain)) this.awaitingSince.set(domain, Date.now());
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
    this.pingTargets.set(fromDomain, serverDomain);
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

  /**
   * Confirm a stanza written on connection `generation`. While that connection lives, a silent
   * server is waited for (pinging again), never answered with a re-send: the stanza is in the
   * stream and would arrive twice (a frozen Prosody answers everything when it resumes). Rejects
   * only when that connection is gone, when the server may not have read it.
   */
  async confirmWritten(fromDomain: string, serverDomain: string, generation: number): Promise<void> {
    // A ping's answer covers every stanza written before it, and a connection that is gone fails
    // every ping on it: a failure here fails every later stanza written on that connection too
    // (hand-on, src/delivery/order.ts, relies on that for order).
    for (;;) {
      try {
        await this.confirm(fromDomain, serverDomain);
      } catch (e) {
        if (!(e instanceof PingTimeout) || this.generation(fromDomain) !== generation) throw e;
        this.opts.log.warn({ domain: fromDomain, server: serverDomain, unansweredMs: this.unansweredMs() }, "XMPP server silent; waiting for it (not re-sending)");
        continue;
      }
      if (this.generation(fromDomain) !== generation) throw new Error(`component link for ${fromDomain} was replaced before the server confirmed`);
      return;
    }
  }

  /** Feed raw bytes into a domain's link as if the server sent them (hostile-corpus tests). */
  inject(domain: string, data: Buffer | string): void {
    this.links.get(domain)?.inject(typeof data === "string" ? Buffer.from(data) : data);
  }
}

function domainOfFrom(el: XmlElement): string {
  const from = el.attrs.from ?? "";
  return from.slice(from.indexOf("@") + 1).split("/")[0]!;
}
