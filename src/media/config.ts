/**
 * The `media` section of the gateway config (issue 13): the shared blob store, the fetcher, the
 * media listener and the limits per network and per domain. `.describe()` texts are the docs.
 */
import { z } from "zod";
import { secret } from "../config/secret.js";

const mib = 1024 * 1024;

export const MediaLimitsSchema = z
  .strictObject({
    maxBytes: z.number().int().min(1).optional().describe("Largest file accepted."),
    maxFiles: z.number().int().min(0).max(200).optional().describe("Most files in one message."),
    allowedTypes: z.array(z.string().min(1)).optional()
      .describe("Media types accepted, checked against the file's magic bytes; `image/*` matches a family. Empty: every type."),
  })
  .describe("Limits for one scope; unset keys fall back to the wider scope.");
export type MediaLimitsConfig = z.output<typeof MediaLimitsSchema>;

const DefaultLimitsSchema = z
  .strictObject({
    maxBytes: z.number().int().min(1).default(25 * mib).describe("Largest file accepted."),
    maxFiles: z.number().int().min(0).max(200).default(10).describe("Most files in one message."),
    allowedTypes: z.array(z.string().min(1)).default([]).describe("Media types accepted (`image/*` matches a family). Empty: every type."),
  })
  .describe("Limits for every network and domain.");

export const MediaSchema = z
  .strictObject({
    dir: z.string().min(1).default("./data/blobs")
      .describe("Directory of the blob store, shared by every Parley process (a shared volume when there are several hosts). A relative path is taken from each process's working directory, not from this file's: the default suits a try-out started in its own directory; a deployment sets an absolute path, the same in every process (parley docker-init writes /data/blobs)."),
    maxBlobBytes: z.number().int().min(1).default(100 * mib).describe("Largest single file the store takes, whatever the limits below say."),
    maxTotalBytes: z.number().int().min(1).default(10 * 1024 * mib).describe("The store refuses new files (senders are told to try later) once it holds this many bytes."),
    maxBlobs: z.number().int().min(1).default(100_000).describe("The store refuses new files once it holds this many."),
    ttlHours: z.number().min(0.01).default(24 * 7).describe("Files unused for this long are deleted; links to them stop working."),
    sweepIntervalMs: z.number().int().min(1_000).default(600_000).describe("How often expired files are looked for."),
    fetch: z
      .strictObject({
        connectTimeoutMs: z.number().int().min(1).default(5_000).describe("Time to connect to a server named in a URL."),
        totalTimeoutMs: z.number().int().min(1).default(120_000).describe("Time for a whole download, body included: a trickling body is cut off."),
        maxRedirects: z.number().int().min(0).max(10).default(3).describe("Redirects followed; each target is checked like the first URL."),
        allowHosts: z.array(z.string().min(1)).default([])
          .describe("Host names fetched even when they resolve to a private, loopback or link-local address (e.g. the XMPP server's upload host on the local network). Nothing else ever is."),
      })
      .default(() => ({ connectTimeoutMs: 5_000, totalTimeoutMs: 120_000, maxRedirects: 3, allowHosts: [] }))
      .describe("The one fetcher every download goes through (docs/media.md)."),
    listener: z
      .strictObject({
        enabled: z.boolean().default(false).describe("Serve stored files at signed, expiring URLs (XMPP recipients and oversized email images get these links)."),
        host: z.string().min(1).default("127.0.0.1").describe("Address the media listener listens on; put a TLS proxy in front of it for the public."),
        port: z.number().int().min(0).max(65_535).default(8781).describe("Port of the media listener (0: any free port)."),
        publicUrl: z.string().url().optional().describe("Base URL recipients use to reach the listener (e.g. https://media.example.org). Default: http://host:port."),
        secret: secret(z.string().min(16)).optional().describe("Key that signs media URLs; all processes need the same one. Prefer secretFile. Default: a random key per process (links then work only from the process that made them)."),
        secretFile: z.string().min(1).optional().describe("File holding the signing key."),
        urlTtlHours: z.number().min(0.01).default(24 * 7).describe("How long a media URL works."),
      })
      .default(() => ({ enabled: false, host: "127.0.0.1", port: 8781, urlTtlHours: 24 * 7 }))
      .describe("Parley's media listener (docs/media.md)."),
    limits: z
      .strictObject({
        default: DefaultLimitsSchema.default(() => ({ maxBytes: 25 * mib, maxFiles: 10, allowedTypes: [] })),
        networks: z.record(z.string(), MediaLimitsSchema).default({}).describe("Limits per network id (xmpp, matrix, email), over the default."),
        domains: z.record(z.string(), MediaLimitsSchema).default({}).describe("Limits per sender or recipient domain, over the network's."),
      })
      .default(() => ({ default: { maxBytes: 25 * mib, maxFiles: 10, allowedTypes: [] }, networks: {}, domains: {} }))
      .describe("What each network and domain accepts (issue 13 §6); over a limit the sender is told in its own protocol."),
  })
  .describe("Files, images and voice notes (docs/media.md): one blob store, one fetcher, one media listener.");
export type MediaConfig = z.output<typeof MediaSchema>;
