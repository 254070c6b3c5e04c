/**
 * The XMPP adapter's gateway config section (`adapters.xmpp`). The component domains themselves
 * come from the mappings (own appearances and shared forms, see address.ts); every one is
 * declared in Prosody with the same `component_secret` (XEP-0114 §3).
 */
import { z } from "zod";
import { secret } from "../../src/config/secret.js";

export const XmppConfigSchema = z.object({
  /** Host of the XMPP server's component listener (Prosody `component_ports`). */
  host: z.string().min(1).default("127.0.0.1").describe("XMPP server host for the component link"),
  port: z.number().int().min(1).max(65535).default(5347).describe("XMPP server component port (XEP-0114)"),
  /** The handshake secret (XEP-0114 §3); from a file or the environment, never logged. */
  componentSecret: secret(z.string().min(1).describe("component_secret shared with the XMPP server (secret)")),
  /** Extra component domains to connect beyond those the mappings imply (rarely needed). */
  extraDomains: z.array(z.string().min(1)).default([]).describe("extra component domains to connect beyond those the mappings imply (every sharedDomains value and appearsOn.xmpp.componentDomain); rarely needed"),
  /** Largest stanza accepted from the link, in bytes, before it reaches the XML parser (bounds.ts). */
  maxStanzaBytes: z.number().int().min(10_000).max(16 * 1024 * 1024).default(256 * 1024)
    .describe("cap on one inbound stanza in bytes (RFC 6120 §13.12: at least 10000)"),
  /** Largest message body accepted or sent, in UTF-8 bytes. */
  maxBodyBytes: z.number().int().min(1024).max(1024 * 1024).default(64 * 1024).describe("largest message body accepted or sent, in UTF-8 bytes"),
  reconnect: z.object({
    baseMs: z.number().int().min(10).default(500).describe("first wait before reconnecting a lost component link; exponential backoff with full jitter (delay in [cap/2, cap], cap = min(maxMs, baseMs·2ⁿ⁻¹))"),
    maxMs: z.number().int().min(100).default(30_000).describe("longest wait between reconnection attempts (exponential backoff with jitter)"),
  }).default({ baseMs: 500, maxMs: 30_000 }).describe("reconnection of a lost component link"),
  /** Lease on the component link when several Parley processes run (one link per domain in Prosody). */
  // A standby takes over within ttlMs (+ one renewMs) of the holder's death, and within one
  // renewMs of a graceful stop (the holder releases the lease): docs/operations.md.
  lease: z.object({
    ttlMs: z.number().int().min(500).default(1_500).describe("how long the lease outlives its holder: a standby takes over within this (+ one renewMs)"),
    renewMs: z.number().int().min(50).default(250).describe("how often the holder renews the lease"),
  }).default({ ttlMs: 1_500, renewMs: 250 }).describe("lease on the component link when several Parley processes run (the server takes one link per domain)"),
  /** How long a send waits for the server's answer to the confirming ping (see README, "what can be lost"). */
  confirmTimeoutMs: z.number().int().min(100).default(5_000).describe("how long a ping may go unanswered before the link counts as not ready (a send waits on, it never re-sends)"),
  /** Hosts whose URLs, sent alone as a body, are files (XEP-0363 uploads from clients that send no XEP-0066 element). */
  uploadHosts: z.array(z.string().min(1)).default([])
    .describe("XEP-0363 upload hosts (e.g. upload.chat.example.org): a body that is only a URL on one of them is fetched as a file"),
  /** The gateway identity in disco#info (XEP-0030, XEP-0100 `gateway` category). */
  name: z.string().min(1).max(128).default("Parley gateway").describe("the gateway's name in service discovery (XEP-0030 disco#info, category gateway)"),
}).strict().describe("the XMPP network: Parley as an external component of the XMPP server (XEP-0114)");

export type XmppConfig = z.infer<typeof XmppConfigSchema>;
export type XmppConfigInput = z.input<typeof XmppConfigSchema>;
