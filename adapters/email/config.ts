/**
 * The email adapter's section of the gateway config (`adapters.email`). Secrets (DKIM keys, relay
 * password, TLS key) are read from files named here, never inlined in logs.
 */
import { z } from "zod";
import { secret } from "../../src/config/secret.js";

const MiB = 1024 * 1024;

/** RFC 8058 §3.1: the one-click URI is HTTPS; plain HTTP only to this machine (tests, a demo). */
function oneClickUrlOk(url: string): boolean {
  const u = new URL(url);
  return u.protocol === "https:" || (u.protocol === "http:" && ["127.0.0.1", "localhost", "[::1]"].includes(u.hostname));
}

export const DkimKeySchema = z.object({
  /** The d= domain; signs mail whose From is in this domain (or a subdomain when `subdomains`). */
  domain: z.string().min(1),
  selector: z.string().min(1),
  /** PEM private key file. */
  privateKeyFile: z.string().min(1).optional(),
  /** PEM private key inline (tests; prefer a file). */
  privateKey: secret(z.string().min(1)).optional(),
  subdomains: z.boolean().default(true),
}).refine((k) => k.privateKey !== undefined || k.privateKeyFile !== undefined, "a DKIM key needs privateKeyFile or privateKey");

export const EmailConfigSchema = z.object({
  /** Parley's own SMTP listener (RFC 5321): host and port; port 0 picks a free one. */
  listen: z.object({
    host: z.string().default("127.0.0.1").describe("address Parley's SMTP listener binds"),
    port: z.number().int().min(0).max(65535).default(2525).describe("port of Parley's SMTP listener (0: a free one)"),
  }).default({ host: "127.0.0.1", port: 2525 }).describe("Parley's own SMTP listener (RFC 5321)"),
  /** Name in the 220 greeting, in EHLO to the relay and in Authentication-Results (authserv-id). */
  hostname: z.string().min(1).default("parley.localhost").describe("name in the 220 greeting, in EHLO to the relay and in Authentication-Results"),
  /** STARTTLS (RFC 3207) is offered when both files are set. */
  tls: z.object({
    certFile: z.string().describe("PEM certificate chain file"),
    keyFile: z.string().describe("PEM private key file"),
  }).optional().describe("STARTTLS (RFC 3207) is offered when both files are set"),
  limits: z.object({
    /** Whole message, enforced at the protocol level (RFC 1870 SIZE and after DATA). */
    maxMessageBytes: z.number().int().positive().default(25 * MiB).describe("largest whole message, at SIZE (RFC 1870) and after DATA (552 5.3.4)"),
    maxParts: z.number().int().positive().default(200).describe("most MIME entities in one message (552 5.3.4)"),
    maxDepth: z.number().int().positive().default(20).describe("deepest MIME nesting (552 5.3.4)"),
    /** RFC 5322 §2.1.1: 998 octets per line; header fields per part. */
    maxHeaderLineBytes: z.number().int().positive().default(998).describe("longest header line, per entity (RFC 5322 §2.1.1: 998 octets; 554 5.6.0)"),
    maxHeaderFields: z.number().int().positive().default(1000).describe("most header fields per entity (554 5.6.0)"),
    maxRecipients: z.number().int().positive().default(50).describe("most RCPT TO in one transaction (452 4.5.3)"),
    maxAttachments: z.number().int().nonnegative().default(20).describe("most attachments in one message (552 5.3.4)"),
    /** Concurrent SMTP connections; with maxMessageBytes it bounds the memory DATA can take. */
    maxConnections: z.number().int().positive().default(40).describe("concurrent SMTP connections (with maxMessageBytes, bounds the memory DATA can take)"),
    /** RFC 5321 §6.3 loop detection: more `Received:` fields than this is refused 554 5.4.6. */
    maxReceived: z.number().int().positive().default(25).describe("more Received: fields than this is a mail loop (RFC 5321 §6.3): 554 5.4.6 naming the count and the limit"),
  }).default({ maxMessageBytes: 25 * MiB, maxParts: 200, maxDepth: 20, maxHeaderLineBytes: 998, maxHeaderFields: 1000, maxRecipients: 50, maxAttachments: 20, maxConnections: 40, maxReceived: 25 }).describe("limits of inbound mail"),
  /** Messages per minute before SMTP answers 4xx (451 4.7.1 at MAIL FROM, 421 at connect). */
  rateLimits: z.object({
    perSenderPerMinute: z.number().int().positive().default(60).describe("messages per minute from one sender before 451 4.7.1"),
    perIpPerMinute: z.number().int().positive().default(120).describe("messages per minute from one IP before 421 at connect"),
  }).default({ perSenderPerMinute: 60, perIpPerMinute: 120 }).describe("inbound rate limits"),
  /**
   * Relays whose `Received:` header is trusted for SPF: when the connecting IP is one of these,
   * SPF is checked on the IP in the header that relay added.
   */
  trustedRelays: z.array(z.string()).default([]).describe("relays whose Received: header is trusted for SPF: the IP that relay recorded is checked"),
  /** Outbound: through a relay (smarthost), or directly to the recipient domain's MX. */
  outbound: z.object({
    mode: z.enum(["relay", "mx"]).default("relay").describe("relay: through a smarthost; mx: directly to the recipient domain's MX"),
    host: z.string().default("127.0.0.1").describe("the relay's host (relay mode)"),
    port: z.number().int().min(1).max(65535).default(25).describe("the relay's port (relay mode)"),
    /** Port of the recipient's MX in `mx` mode (25; tests point it at a private MTA). */
    mxPort: z.number().int().min(1).max(65535).default(25).describe("port of the MX in mx mode (exchanges tried by preference; 4xx or unreachable: the next)"),
    /** Refuse to send when the relay does not offer STARTTLS. */
    requireTLS: z.boolean().default(false).describe("refuse to send when the relay does not offer STARTTLS"),
    /** Use STARTTLS when offered (off for a loopback relay without TLS). */
    opportunisticTLS: z.boolean().default(true).describe("use STARTTLS when offered"),
    user: z.string().optional().describe("relay login (SMTP AUTH)"),
    passwordFile: z.string().optional().describe("file holding the relay password"),
    connectionTimeoutMs: z.number().int().positive().default(10_000).describe("timeout of a connection to the relay or MX"),
  }).default({ mode: "relay", host: "127.0.0.1", port: 25, mxPort: 25, requireTLS: false, opportunisticTLS: true, connectionTimeoutMs: 10_000 }).describe("outbound mail"),
  /**
   * Envelope sender of outbound mail, VERP-extended per message (`bounces+<id>@domain`), and the
   * address where DSNs (RFC 3464) arrive. Its domain must route to this listener.
   */
  bounceAddress: z.string().regex(/^[^@\s+]+@[^@\s]+$/, "local@domain without '+'").default("bounces@gw.example.org")
    .describe("envelope sender of outbound mail, VERP-extended per message (bounces+<id>@domain), where DSNs arrive; its domain must route to this listener"),
  dkim: z.array(DkimKeySchema).default([]).describe("DKIM signing keys: { domain, selector, privateKeyFile | privateKey, subdomains }; signs mail whose From is in domain"),
  /** Issue 18: mail has no reactions; when on, each reaction change goes as a short notice replying to the message. */
  reactionNotices: z.boolean().default(false)
    .describe("send a short notice mail (In-Reply-To the message) for each reaction added or removed, to a mail user or a list's members; off: reactions to mail users and lists are dropped and logged"),
  /**
   * RFC 8058 one-click unsubscribe for list mail (issue 12 §5): with a public base URL, every list
   * mail carries its recipient's own HTTPS unsubscribe link, signed with `secret`, beside the mailto.
   */
  oneClick: z.object({
    publicUrl: z.url().refine(oneClickUrlOk, "must be https:// (http:// only to a loopback host, for tests)")
      .describe("base URL recipients' mail providers reach the one-click endpoint at (https://lists.example.org); list mail then carries List-Unsubscribe <publicUrl/list/unsubscribe?token>, <mailto:…> and List-Unsubscribe-Post (RFC 8058). Put a TLS proxy in front of the listener"),
    listen: z.object({
      host: z.string().default("127.0.0.1").describe("address the one-click HTTP listener binds"),
      port: z.number().int().min(0).max(65535).default(8782).describe("port of the one-click HTTP listener (0: a free one)"),
    }).default({ host: "127.0.0.1", port: 8782 }).describe("the one-click unsubscribe HTTP listener"),
    secret: secret(z.string().min(16)).optional().describe("key of the HMAC in each unsubscribe link (list, mailbox); every process needs the same one; changing it voids the links in mail already sent; prefer secretFile."),
    secretFile: z.string().min(1).optional().describe("file holding the one-click key"),
  }).strict().refine((o) => o.secret !== undefined || o.secretFile !== undefined, "one-click unsubscribe needs secret or secretFile")
    .optional().describe("RFC 8058 one-click unsubscribe for list mail; absent: List-Unsubscribe is mailto only"),
  /** Deprecated: files go to the gateway's one blob store (`media.dir`); used only when a context offers no media service. */
  blobDir: z.string().default("./data/blobs")
    .describe("deprecated: attachments and original messages go to the shared blob store `media.dir` (docs/media.md); this directory is used only without one"),
}).strict().describe("the email network: Parley's SMTP listener and outbound mail");

export type EmailConfig = z.infer<typeof EmailConfigSchema>;
export type EmailConfigInput = z.input<typeof EmailConfigSchema>;
