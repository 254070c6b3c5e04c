/**
 * The email adapter's section of the gateway config (`adapters.email`). Secrets (DKIM keys, relay
 * password, TLS key) are read from files named here, never inlined in logs.
 */
import { z } from "zod";
import { secret } from "../../src/config/secret.js";

const MiB = 1024 * 1024;

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
    host: z.string().default("127.0.0.1"),
    port: z.number().int().min(0).max(65535).default(2525),
  }).default({ host: "127.0.0.1", port: 2525 }),
  /** Name in the 220 greeting, in EHLO to the relay and in Authentication-Results (authserv-id). */
  hostname: z.string().min(1).default("parley.localhost"),
  /** STARTTLS (RFC 3207) is offered when both files are set. */
  tls: z.object({ certFile: z.string(), keyFile: z.string() }).optional(),
  limits: z.object({
    /** Whole message, enforced at the protocol level (RFC 1870 SIZE and after DATA). */
    maxMessageBytes: z.number().int().positive().default(25 * MiB),
    maxParts: z.number().int().positive().default(200),
    maxDepth: z.number().int().positive().default(20),
    /** RFC 5322 §2.1.1: 998 octets per line; header fields per part. */
    maxHeaderLineBytes: z.number().int().positive().default(998),
    maxHeaderFields: z.number().int().positive().default(1000),
    maxRecipients: z.number().int().positive().default(50),
    maxAttachments: z.number().int().nonnegative().default(20),
    /** Concurrent SMTP connections; with maxMessageBytes it bounds the memory DATA can take. */
    maxConnections: z.number().int().positive().default(40),
    /** RFC 5321 §6.3 loop detection: more `Received:` fields than this is refused 554 5.4.6. */
    maxReceived: z.number().int().positive().default(25),
  }).default({ maxMessageBytes: 25 * MiB, maxParts: 200, maxDepth: 20, maxHeaderLineBytes: 998, maxHeaderFields: 1000, maxRecipients: 50, maxAttachments: 20, maxConnections: 40, maxReceived: 25 }),
  /** Messages per minute before SMTP answers 4xx (451 4.7.1 at MAIL FROM, 421 at connect). */
  rateLimits: z.object({
    perSenderPerMinute: z.number().int().positive().default(60),
    perIpPerMinute: z.number().int().positive().default(120),
  }).default({ perSenderPerMinute: 60, perIpPerMinute: 120 }),
  /**
   * Relays whose `Received:` header is trusted for SPF: when the connecting IP is one of these,
   * SPF is checked on the IP in the header that relay added.
   */
  trustedRelays: z.array(z.string()).default([]),
  /** Outbound: through a relay (smarthost), or directly to the recipient domain's MX. */
  outbound: z.object({
    mode: z.enum(["relay", "mx"]).default("relay"),
    host: z.string().default("127.0.0.1"),
    port: z.number().int().min(1).max(65535).default(25),
    /** Port of the recipient's MX in `mx` mode (25; tests point it at a private MTA). */
    mxPort: z.number().int().min(1).max(65535).default(25),
    /** Refuse to send when the relay does not offer STARTTLS. */
    requireTLS: z.boolean().default(false),
    /** Use STARTTLS when offered (off for a loopback relay without TLS). */
    opportunisticTLS: z.boolean().default(true),
    user: z.string().optional(),
    passwordFile: z.string().optional(),
    connectionTimeoutMs: z.number().int().positive().default(10_000),
  }).default({ mode: "relay", host: "127.0.0.1", port: 25, mxPort: 25, requireTLS: false, opportunisticTLS: true, connectionTimeoutMs: 10_000 }),
  /**
   * Envelope sender of outbound mail, VERP-extended per message (`bounces+<id>@domain`), and the
   * address where DSNs (RFC 3464) arrive. Its domain must route to this listener.
   */
  bounceAddress: z.string().regex(/^[^@\s+]+@[^@\s]+$/, "local@domain without '+'").default("bounces@gw.example.org"),
  dkim: z.array(DkimKeySchema).default([]),
  /** Deprecated: files go to the gateway's one blob store (`media.dir`); used only when a context offers no media service. */
  blobDir: z.string().default("./data/blobs")
    .describe("deprecated: attachments and original messages go to the shared blob store `media.dir` (docs/media.md); this directory is used only without one"),
}).strict();

export type EmailConfig = z.infer<typeof EmailConfigSchema>;
export type EmailConfigInput = z.input<typeof EmailConfigSchema>;
