/**
 * One component domain's link (XEP-0114): a TCP connection authenticated by the handshake
 * `SHA1(streamId + secret)` (XEP-0114 §3), reconnecting with exponential backoff and full jitter
 * (STYLE habit 10). Each attempt uses a fresh `Component`, so a stale one (STACK.md: a failed
 * handshake keeps firing errors) can never act again; each online connection has its own
 * `generation`, so a sender can tell whether the socket it wrote to is still the live one.
 * Bytes from the socket pass through {@link StanzaGuard} before the parser.
 */
import componentCore from "@xmpp/component-core";
import type xml from "@xmpp/xml";
import type { Logger } from "../../src/log/logger.js";
import { StanzaGuard, type GuardEvent } from "./bounds.js";
import { xmlSafeElement } from "./xml-safe.js";
import { errorMessage } from "../../src/errors/message.js";

type Component = InstanceType<typeof componentCore.Component>;
type XmlElement = xml.Element;

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

/**
 * Connect the socket and open the stream: what `Component.start()` does, without its promise for
 * "online". xmpp.js creates that promise before opening the stream and leaves it unawaited when
 * the open fails, so a connection reset during the open (a server restarting, a proxy refusing)
 * rejected it a second time with nobody listening: an unhandled rejection, which ends a Node
 * process. Going online is signalled by the entity's "online" event, which the caller handles.
 */
export async function openComponentStream(entity: Component, domain: string): Promise<void> {
  await entity.connect(entity.options.service);
  await entity.open({ domain });
}

/** Backoff before attempt `n` (1-based): full jitter over min(max, base·2ⁿ⁻¹). */
export function backoffMs(n: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const cap = Math.min(maxMs, baseMs * 2 ** Math.min(n - 1, 20));
  return Math.round(cap / 2 + (random() * cap) / 2);
}

export class DomainLink {
  private entity: Component | undefined;
  private guard: StanzaGuard;
  private attempt = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  online = false;
  /** Counts the connections that came online: a send's generation names the socket it went to. */
  generation = 0;

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
      // One small stanza per send, and a ping right behind it: without this, Nagle's algorithm
      // holds the ping back until the server's delayed ACK (~40 ms per confirmed send).
      entity.socket?.setNoDelay(true);
      this.generation++;
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
      await openComponentStream(entity, this.domain);
    } catch (err) {
      this.opts.log.warn({ domain: this.domain, err: errorMessage(err) }, "component link could not start");
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

  /** Write `el` to the live connection; resolves with that connection's generation. */
  async send(el: XmlElement): Promise<number> {
    if (!this.entity || !this.online) throw new Error(`component link for ${this.domain} is down`);
    const generation = this.generation;
    // Issue 11 class 1: nothing XML cannot carry ever reaches the socket (xml-safe.ts).
    const replaced = xmlSafeElement(el);
    if (replaced > 0) this.opts.log.info({ domain: this.domain, stanza: el.name, id: el.attrs.id, replaced }, "characters XML cannot carry replaced with U+FFFD");
    await this.entity.send(el);
    return generation;
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

