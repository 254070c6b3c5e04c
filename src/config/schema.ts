/**
 * The gateway config (STYLE habit 8): one zod schema for the core's sections; each adapter owns
 * its `adapters.<id>` section through its factory's `configSchema`. The `.describe()` texts are
 * the documentation: `docs/configuration.md` is generated from them (sample.ts).
 */
import { z } from "zod";
import { secret } from "./secret.js";
import type { NetworkId } from "../model/address.js";
import { MediaSchema } from "../media/config.js";

const port = z.number().int().min(0).max(65_535);
const ms = z.number().int().min(1);

export const RedisSchema = z
  .strictObject({
    url: z.string().regex(/^rediss?:\/\//, "must be a redis:// or rediss:// URL").default("redis://127.0.0.1:6379")
      .describe("Redis URL (redis:// or rediss:// for TLS; user and password may be in the URL). Redis must run with AOF on and maxmemory-policy noeviction."),
    keyPrefix: z.string().min(1).default("parley:")
      .describe("Prefix of every key and queue Parley creates, so several gateways can share one Redis."),
    cluster: z.array(z.string().regex(/^[^\s/]+:\d{1,5}$/, "must be host:port")).min(1).optional()
      .describe("Seed nodes (host:port) of a Redis Cluster: when set, Parley uses the cluster and url only lends its password. Absent: one Redis at url (docs/deployment.md)."),
    shards: z.number().int().min(1).max(1024).optional()
      .describe("On a Redis Cluster: how many hash-tag shards the presence and subscription keys are spread over (default 16; fixed for the life of the data)."),
    partitions: z.number().int().min(1).max(256).optional()
      .describe("Delivery queue partitions per kind and network (default 1 on one Redis, 8 on a cluster); fixed for the life of the queues."),
  })
  .describe("Redis holds the queues, the presence state, subscriptions and the id maps.");

export const AdminSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe("Whether the admin HTTP API (health, metrics, queues) listens at all."),
    host: z.string().min(1).default("127.0.0.1").describe("Address the admin API listens on. Keep it on loopback unless a proxy with TLS stands in front."),
    port: port.default(8780).describe("Port of the admin API (0: any free port)."),
    token: secret(z.string().min(16, "must be at least 16 characters")).optional()
      .describe("Bearer token the admin API requires. Prefer tokenFile or PARLEY_ADMIN__TOKEN_FILE to keep it out of this file."),
    tokenFile: z.string().min(1).optional().describe("File holding the admin token (e.g. a container secret); read at start."),
  })
  .describe("The admin API (DESIGN §5): loopback by default, and always behind a token.");

export const DeliverySchema = z
  .strictObject({
    attempts: z.number().int().min(1).max(1000).default(10).describe("Delivery attempts per message and target before it fails for good and the sender is told."),
    backoffBaseMs: ms.default(1_000).describe("First retry delay; each further retry doubles it (with jitter)."),
    backoffCapMs: ms.default(600_000).describe("Longest delay between two retries."),
    concurrency: z.number().int().min(1).max(1_000).default(8).describe("Delivery jobs one Parley process works on at once."),
    queueSharing: z.enum(["leased", "every-process"]).default("leased")
      .describe("How worker processes divide a network's queues: leased (each queue served by one process at a time; spread with redis.partitions) or every-process (every process serves every queue)."),
    maxConversationBacklog: z.number().int().min(1).default(10_000)
      .describe("Back-pressure: a conversation with this many messages waiting refuses new ones (the sender's network is told to try later) until it drains."),
  })
  .describe("Durable delivery (DESIGN §3): retries with exponential backoff, one conversation in order.");

export const PresenceSchema = z
  .strictObject({
    livenessTimeoutMs: ms.default(90_000).describe("A session not heard from for this long is taken as gone: its presentity goes CLOSED and watchers are told (RFC 2779 3.2.4)."),
  })
  .describe("Presence state and liveness (DESIGN §4).");

export const TraceSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe("Record every message's hops (accepted, routed, enqueued, each attempt, outcome, status reported) in Redis, without bodies, for `parley trace` and the console."),
    retentionSeconds: z.number().int().min(60).max(30 * 24 * 3600).default(24 * 3600).describe("How long a message's trace and the lookups by address and native id are kept."),
    maxHops: z.number().int().min(8).max(1000).default(64).describe("Hops kept per message; beyond it the oldest attempts are dropped (the accept steps and the newest hops stay)."),
    perAddress: z.number().int().min(1).max(10_000).default(100).describe("Messages remembered per address for `parley trace ADDRESS --last N`."),
    flushMs: z.number().int().min(0).max(5_000).default(100).describe("Hops are buffered this long and written in one batch (0: at the end of each event-loop turn); a process that dies loses at most this much of its traces."),
  })
  .describe("Per-message trace (docs/operations.md \"Tracing a message\").");

export const LimitsSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe("Rate-limit inbound messages on every ingress (XMPP, Matrix, email); counted in Redis, so all ingress processes share one count."),
    perSenderPerMinute: z.number().int().min(0).default(600).describe("Messages per minute one sender may send through the gateway (a burst of this many passes at once); beyond it the sender hears its network's \"slow down\". A mail to several recipients counts once. 0: no limit."),
    perDomainPerMinute: z.number().int().min(0).default(6_000).describe("Messages per minute all senders of one source domain may send together; a mail to several recipients counts once here too (docs/operations.md \"Rate limits\"). 0: no limit."),
  })
  .describe("Shared inbound rate limits (docs/operations.md \"Rate limits\"): answered with XMPP policy-violation (wait), Matrix M_LIMIT_EXCEEDED, SMTP 451 4.7.1.");

export const LogSchema = z
  .strictObject({
    level: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info").describe("Log level (pino). Secrets and message bodies are never logged."),
  })
  .describe("Structured JSON logs on standard output.");

export const CoreConfigSchema = z.strictObject({
  mappings: z.string().min(1).default("mappings/domains.yaml")
    .describe("Path of the domain mappings file (docs/mappings.md); relative to this file's directory."),
  redis: RedisSchema.default(() => RedisSchema.parse({})),
  admin: AdminSchema.default(() => AdminSchema.parse({})),
  delivery: DeliverySchema.default(() => DeliverySchema.parse({})),
  presence: PresenceSchema.default(() => PresenceSchema.parse({})),
  log: LogSchema.default(() => LogSchema.parse({})),
  trace: TraceSchema.default(() => TraceSchema.parse({})),
  limits: LimitsSchema.default(() => LimitsSchema.parse({})),
  media: MediaSchema.default(() => MediaSchema.parse({})),
});

export type CoreConfig = z.output<typeof CoreConfigSchema>;

/** An adapter's config section schema: an adapter factory satisfies this. */
export interface AdapterConfigSchema {
  readonly id: NetworkId;
  readonly configSchema: z.ZodType;
  /** Where the section is documented (the sample config and docs link it). */
  readonly docs?: { readonly readme: string };
}

export interface GatewayConfig extends CoreConfig {
  /** Parsed `adapters.<id>` sections, one per adapter to run (a missing section: the adapter does not run). */
  readonly adapters: Readonly<Record<string, unknown>>;
}

/** The full schema: the core's sections plus one optional section per known adapter. */
export function gatewayConfigSchema(adapters: readonly AdapterConfigSchema[]) {
  const sections = Object.fromEntries(adapters.map((a) => [a.id, a.configSchema.optional()]));
  return CoreConfigSchema.extend({
    adapters: z.strictObject(sections).default({})
      .describe("One section per network to join, validated by that network's adapter (adapters/<id>/README.md). A network without a section is not started."),
  });
}

/** The parsed adapter sections by network id, as `createGateway`'s `adapterConfigs` takes them. */
export function adapterConfigsOf(config: GatewayConfig): ReadonlyMap<NetworkId, unknown> {
  return new Map(Object.entries(config.adapters).filter(([, v]) => v !== undefined).map(([k, v]) => [k as NetworkId, v]));
}
