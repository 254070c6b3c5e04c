/**
 * Parley's SMTP listener (RFC 5321) on smtp-server (issue 5 §1): STARTTLS (RFC 3207) when a
 * certificate is configured, SIZE (RFC 1870) and the size checked again after DATA, per-IP and
 * per-sender rate limits answered 4xx, recipients refused at RCPT with 550 when they map to no
 * bridged user, 250 after DATA only once {@link Inbound.handle} has the message durable.
 */
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { SMTPServer, type SMTPServerAddress, type SMTPServerDataStream, type SMTPServerSession } from "smtp-server";
import type { AdapterContext } from "../../src/adapter/contract.js";
import { EMAIL, fromNative } from "./address.js";
import type { EmailConfig } from "./config.js";
import { reply, SmtpReplyError } from "./errors.js";
import type { Envelope, Inbound } from "./inbound.js";
import { listTarget, type ListTarget } from "./list/address.js";

/** A fixed one-minute window per key (bounded: the map is cleared each window); for a listener without `ctx.limits`. */
export class RateWindow {
  private counts = new Map<string, number>();
  private windowStart = Date.now();
  constructor(private readonly perMinute: number) {}
  /** Count one event; false when the key is over its limit this minute. */
  hit(key: string, now = Date.now()): boolean {
    if (now - this.windowStart >= 60_000) { this.counts = new Map(); this.windowStart = now; }
    const n = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, n);
    return n <= this.perMinute;
  }
}

/**
 * One SMTP rate limit: in Redis through `ctx.limits` (shared by every listener of the deployment,
 * issue 14), else in this process's memory. Resolves true when the event may pass.
 */
function rateLimit(ctx: AdapterContext, bucket: string, perMinute: number): (key: string) => Promise<boolean> {
  const port = ctx.limits;
  if (!port) {
    const w = new RateWindow(perMinute);
    return (key) => Promise.resolve(w.hit(key));
  }
  return async (key) => (await port.take(bucket, key, { perMinute })).allowed;
}

interface SessionState { rcpts: Array<Envelope["rcpts"][number]>; list?: ListTarget }

export class SmtpListener {
  private server: SMTPServer | undefined;
  private readonly byIp: (ip: string) => Promise<boolean>;
  private readonly bySender: (sender: string) => Promise<boolean>;
  private readonly sessions = new WeakMap<SMTPServerSession, SessionState>();
  private readonly bounceLocal: string;
  private readonly bounceDomain: string;

  constructor(private readonly config: EmailConfig, private readonly ctx: AdapterContext, private readonly inbound: Inbound) {
    this.byIp = rateLimit(ctx, "smtp-ip", config.rateLimits.perIpPerMinute);
    this.bySender = rateLimit(ctx, "smtp-sender", config.rateLimits.perSenderPerMinute);
    const at = config.bounceAddress.lastIndexOf("@");
    this.bounceLocal = config.bounceAddress.slice(0, at).toLowerCase();
    this.bounceDomain = config.bounceAddress.slice(at + 1).toLowerCase();
  }

  async start(): Promise<number> {
    const c = this.config;
    const tls = c.tls ? { key: readFileSync(c.tls.keyFile), cert: readFileSync(c.tls.certFile) } : {};
    this.server = new SMTPServer({
      name: c.hostname,
      banner: "Parley",
      size: c.limits.maxMessageBytes,
      authOptional: true,
      disabledCommands: c.tls ? ["AUTH"] : ["AUTH", "STARTTLS"],
      hideENHANCEDSTATUSCODES: true,
      logger: false,
      maxClients: c.limits.maxConnections,
      disableReverseLookup: true, // no PTR lookups: nothing here uses the client host name
      socketTimeout: 60_000,
      // On stop, sessions still open after 1 s are cut: their mail was not acknowledged (no 250),
      // so the MTA keeps it and retries; a stop never waits smtp-server's default 30 s.
      closeTimeout: 1_000,
      ...tls,
      onConnect: (s, cb) => { this.onConnect(s).then(cb, (e: unknown) => cb(this.unavailable(e, 421))); },
      onMailFrom: (a, s, cb) => { this.onMailFrom(a, s).then(cb, (e: unknown) => cb(this.unavailable(e, 451))); },
      onRcptTo: (a, s, cb) => cb(this.onRcptTo(a, s)),
      onData: (stream, s, cb) => { this.onData(stream, s).then((r) => cb(r), (e: unknown) => { this.ctx.log.error({ err: e }, "inbound failed"); cb(new SmtpReplyError(reply(451, "4.3.0", "Temporary failure, try again later"))); }); },
    });
    this.server.on("error", (e) => this.ctx.log.warn({ err: e.message }, "SMTP listener error"));
    await new Promise<void>((resolve, reject) => {
      this.server!.once("error", reject);
      this.server!.listen(c.listen.port, c.listen.host, () => resolve());
    });
    return (this.server.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  private state(s: SMTPServerSession): SessionState {
    let st = this.sessions.get(s);
    if (!st) { st = { rcpts: [] }; this.sessions.set(s, st); }
    return st;
  }

  private async onConnect(s: SMTPServerSession): Promise<Error | null> {
    if (await this.byIp(s.remoteAddress)) return null;
    return new SmtpReplyError(reply(421, "4.7.0", "Too many connections from your address, try later"));
  }

  private async onMailFrom(a: SMTPServerAddress, s: SMTPServerSession): Promise<Error | null> {
    this.sessions.set(s, { rcpts: [] });
    const sender = (a.address || "<>").toLowerCase();
    if (!(await this.bySender(sender))) return new SmtpReplyError(reply(451, "4.7.1", "Too many messages from this sender, slow down"));
    return null;
  }

  /** Redis could not count (the limits live there): the client is asked to try later, never let through uncounted. */
  private unavailable(e: unknown, code: 421 | 451): Error {
    this.ctx.log.warn({ err: e instanceof Error ? e.message : String(e) }, "SMTP rate limit could not be checked");
    return new SmtpReplyError(reply(code, "4.3.0", "Temporary failure, try again later"));
  }

  /** Parse `bounces+<id>@domain`: the VERP id, "" for the plain bounce address, undefined for others. */
  private verp(address: string): string | undefined {
    const at = address.lastIndexOf("@");
    const local = address.slice(0, at).toLowerCase();
    if (address.slice(at + 1).toLowerCase() !== this.bounceDomain) return undefined;
    if (local === this.bounceLocal) return "";
    return local.startsWith(`${this.bounceLocal}+`) ? local.slice(this.bounceLocal.length + 1) : undefined;
  }

  private onRcptTo(a: SMTPServerAddress, s: SMTPServerSession): Error | null {
    const st = this.state(s);
    if (st.rcpts.length >= this.config.limits.maxRecipients) return new SmtpReplyError(reply(452, "4.5.3", "Too many recipients"));
    const list = listTarget(a.address, (address) => this.ctx.mappings().rooms?.find(EMAIL, address) !== undefined);
    // One list per transaction, alone: 452 makes the MTA send the other recipients separately (RFC 5321 §4.5.3.1.10).
    if (list) {
      if (st.list && st.list.list === list.list && st.list.action === list.action) return null;
      if (st.list || st.rcpts.length > 0) return new SmtpReplyError(reply(452, "4.5.3", "A list takes its mail in a transaction of its own"));
      st.list = list;
      return null;
    }
    if (st.list) return new SmtpReplyError(reply(452, "4.5.3", "A list takes its mail in a transaction of its own"));
    const verp = this.verp(a.address);
    if (verp !== undefined) {
      st.rcpts.push({ native: a.address, endpoint: "bounce", ...(verp ? { verpId: verp } : {}) });
      return null;
    }
    try {
      const endpoint = fromNative(a.address, this.ctx.mappings());
      // RFC 2779 2.1.2: mail comes in only for bridged (chat) users; a mailbox is not ours to serve.
      if (endpoint.network === EMAIL || !this.ctx.mappings().networks.has(endpoint.network)) throw new Error("not bridged");
      st.rcpts.push({ native: a.address, endpoint });
      return null;
    } catch {
      return new SmtpReplyError(reply(550, "5.1.1", "No such user here"));
    }
  }

  private async onData(stream: SMTPServerDataStream, s: SMTPServerSession): Promise<Error | null> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of stream) {
      size += (chunk as Buffer).length;
      if (size <= this.config.limits.maxMessageBytes) chunks.push(chunk as Buffer); // keep draining, never buffer past the limit
    }
    if (stream.sizeExceeded || size > this.config.limits.maxMessageBytes) return new SmtpReplyError(reply(552, "5.3.4", "Message too big"));
    const raw = Buffer.concat(chunks);
    const st = this.state(s);
    const ip = s.remoteAddress.replace(/^::ffff:/, "");
    const env: Envelope = {
      ip, helo: s.hostNameAppearsAs || ip,
      mailFrom: s.envelope.mailFrom ? s.envelope.mailFrom.address : "",
      rcpts: st.rcpts,
      viaTrustedRelay: this.config.trustedRelays.includes(ip),
      ...(st.list ? { list: st.list } : {}),
    };
    const r = await this.inbound.handle(raw, env);
    return r.code === 250 ? null : new SmtpReplyError(r);
  }
}
