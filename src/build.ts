/**
 * Build a running gateway from a validated config, the mappings and the adapter factories: the
 * real parts (Redis connections, BullMQ delivery, stores, router, access policy, presence) and
 * the admin listener. `bin/parley.ts` calls this; integration tests call it too.
 */
import { readFile } from "node:fs/promises";
import { Registry } from "prom-client";
import type { AdapterFactory } from "./adapter/contract.js";
import type { NetworkId } from "./model/address.js";
import type { DomainMappings } from "./mappings/types.js";
import type { GatewayConfig } from "./config/schema.js";
import { adapterConfigsOf } from "./config/schema.js";
import type { Logger } from "./log/logger.js";
import { BullDeliveryService, createDeliveryMetrics, type DeliveryServiceOptions } from "./delivery/index.js";
import { ProcessHeartbeat, createWorkerClient, createProducerClient, DEFAULT_CLUSTER_SHARDS, keyspace, type RedisClient, RedisAdapterStateStore, RedisIdMap, RedisInboundClaims, waitForReady, warnIfRedisNotDurable } from "./store/index.js";
import { RedisOpenRooms } from "./store/open-rooms.js";
import { route } from "./router/index.js";
import { PresenceAdmin, PresenceService, UserBlocks, presenceAdminRoutes } from "./presence/index.js";
import { Gateway } from "./gateway.js";
import { AdminServer, type AdminRoute } from "./admin/server.js";
import { ParleyError } from "./errors/parley-error.js";
import { errorMessage } from "./errors/message.js";
import { LiveMappings, MappingsVersions } from "./mappings/index.js";
import { mappingsRoutes } from "./admin/mappings-routes.js";
import { NO_TRACE, RedisTracer, TraceReader, TraceWriter, traceKeys } from "./trace/index.js";
import { MediaService } from "./media/service.js";
import { WebConsole } from "./console/index.js";
import { IngressLimits } from "./limits/ingress-limits.js";
import { RedisRateLimiter } from "./limits/rate-limiter.js";
import { redactUrlSecrets } from "./log/redact-url.js";

export type Role = "all" | "ingress" | "workers";

export interface BuildOptions {
  readonly config: GatewayConfig;
  readonly mappings: DomainMappings;
  /** Take `config.mappings` as a new version at start if Redis holds another text (the CLI does; tests pass mappings in code). */
  readonly adoptMappingsFile?: boolean;
  readonly factories: readonly AdapterFactory<unknown>[];
  readonly log: Logger;
  readonly role?: Role;
  /** Tuning for tests (short stalled intervals, fast backoff); production uses the defaults. */
  readonly deliveryTuning?: Pick<DeliveryServiceOptions, "lockDurationMs" | "stalledIntervalMs" | "parkMs" | "retry">;
}

export interface BuiltGateway {
  readonly gateway: Gateway;
  readonly delivery: BullDeliveryService;
  readonly presence: PresenceService;
  readonly registry: Registry;
  readonly redis: RedisClient;
  /** Reads message traces (issue 17). */
  readonly traces: TraceReader;
  /** The mappings in force, with live reload (SIGHUP, admin API, console). */
  readonly live: LiveMappings;
  /** Where the admin listener listens, when enabled. */
  adminAddress(): { host: string; port: number } | undefined;
  /** Start adapters, workers, presence timers and the admin listener. */
  start(): Promise<void>;
  /**
   * Graceful stop: admin listener, presence timers, gateway (drains workers, stops adapters), Redis.
   * `onIngressStopped` runs once every ingress stopped and what it accepted is stored.
   */
  stop(onIngressStopped?: () => void): Promise<void>;
}

/** The Redis key prefix without a trailing colon (`parley`), as the delivery layer's keyspace takes it. */
function basePrefix(config: GatewayConfig): string {
  return config.redis.keyPrefix.replace(/:+$/, "");
}

async function adminToken(config: GatewayConfig): Promise<string | undefined> {
  if (config.admin.token !== undefined) return config.admin.token;
  if (config.admin.tokenFile === undefined) return undefined;
  return (await readFile(config.admin.tokenFile, "utf8")).trim();
}

function dlqRoutes(delivery: BullDeliveryService): AdminRoute[] {
  return [
    { method: "GET", path: "/dlq", handle: async (_p, _b, q) => ({ status: 200, body: await delivery.listFailed(Number(q.get("limit") ?? 100)) }) },
    { method: "POST", path: "/dlq/:id/retry", handle: async (p) => ((await delivery.retryFailed(p.id!)) ? { status: 200, body: { retried: p.id } } : { status: 404, body: { errcode: "PARLEY_NOT_FOUND", error: `no failed job ${p.id}` } }) },
    { method: "DELETE", path: "/dlq/:id", handle: async (p) => ((await delivery.dropFailed(p.id!)) ? { status: 200, body: { dropped: p.id } } : { status: 404, body: { errcode: "PARLEY_NOT_FOUND", error: `no failed job ${p.id}` } }) },
    { method: "GET", path: "/queues", handle: async () => ({ status: 200, body: await delivery.counts() }) },
  ];
}

function traceRoute(traces: TraceReader): AdminRoute {
  return { method: "GET", path: "/trace/:query", handle: async (p, _b, q) => ({ status: 200, body: await traces.lookup(p.query!, Number(q.get("last") ?? 10)) }) };
}

export async function buildGateway(options: BuildOptions): Promise<BuiltGateway> {
  const { config, factories, log } = options;
  const role = options.role ?? "all";
  const prefix = basePrefix(config);
  const cluster = config.redis.cluster;
  const keys = keyspace(prefix, { cluster: cluster !== undefined });
  const adapterConfigs = adapterConfigsOf(config);
  const networks = [...adapterConfigs.keys()];
  const factoryById = new Map<NetworkId, AdapterFactory<unknown>>(factories.map((f) => [f.id, f]));

  const redis = createProducerClient({ url: config.redis.url, cluster, connectionName: "parley-core" });
  redis.on("error", () => undefined); // reported through the operations that fail; see /readyz
  try {
    await waitForReady(redis);
  } catch (e) {
    redis.disconnect();
    const where = cluster ? `the Redis Cluster at ${cluster.join(", ")}` : `Redis at ${redactUrlSecrets(config.redis.url)}`;
    throw new ParleyError("PARLEY_UNAVAILABLE", `cannot reach ${where}: is it running?`, {}, { cause: e });
  }
  await warnIfRedisNotDurable(redis, log);

  const registry = new Registry();
  const delivery = await BullDeliveryService.create({
    networks: networks.length > 0 ? networks : factories.map((f) => f.id),
    prefix,
    redisUrl: config.redis.url,
    cluster,
    partitions: config.redis.partitions,
    producer: redis,
    concurrency: config.delivery.concurrency,
    maxConversationBacklog: config.delivery.maxConversationBacklog,
    queueSharing: config.delivery.queueSharing,
    log,
    metrics: createDeliveryMetrics(registry),
    ...options.deliveryTuning,
    retry: { attempts: config.delivery.attempts, baseMs: config.delivery.backoffBaseMs, capMs: config.delivery.backoffCapMs, ...options.deliveryTuning?.retry },
  });

  const subscriber = createWorkerClient({ url: config.redis.url, cluster, connectionName: "parley-mappings" });
  subscriber.on("error", () => undefined);
  const live = new LiveMappings({
    initial: options.mappings, file: config.mappings, adoptFileAtStart: options.adoptMappingsFile ?? false,
    networks: factories.map((f) => ({ id: f.id, addressing: f.addressing })), versions: new MappingsVersions(redis, keys), subscriber, log,
  });
  const mappings = live.get;

  const tkeys = traceKeys(keys);
  const traceWriter = config.trace.enabled ? new TraceWriter(redis, tkeys, config.trace, log.child({ module: "trace" })) : undefined;
  const traces = new TraceReader(redis, tkeys, config.trace.retentionSeconds);

  const media = new MediaService({ config: config.media, log: log.child({ module: "media" }), registry });
  const running: { gateway?: Gateway } = {};
  const presence = new PresenceService({
    redis,
    prefix: `${prefix}:`,
    shards: cluster ? config.redis.shards ?? DEFAULT_CLUSTER_SHARDS : 0,
    mappings,
    delivery,
    adapters: (n) => running.gateway?.adapter(n),
    hasPresence: (n) => factoryById.get(n)?.capabilities.presence ?? false,
    log,
    livenessTimeoutMs: config.presence.livenessTimeoutMs,
    // A presentity goes CLOSED on its deadline only while its network's link is down here; a live
    // link vouches for its users, who republish only on change.
    linkReady: (n) => running.gateway?.adapter(n)?.health().ready,
  });
  const gateway = new Gateway({
    factories,
    adapterConfigs,
    mappings,
    parts: {
      delivery,
      ids: new RedisIdMap(redis, keys),
      claims: new RedisInboundClaims(redis, keys),
      route,
      // One access policy for messages and presence alike: the presence service's (RFC 2779 2.3).
      policy: presence.parts.policy,
      presence,
      trace: traceWriter ? new RedisTracer(traceWriter) : NO_TRACE,
      stateFor: (n) => new RedisAdapterStateStore(redis, keys, n),
      media,
      openRooms: new RedisOpenRooms(redis, keys),
      blocks: new UserBlocks({ policy: presence.parts.policy, delivery, log: log.child({ module: "blocks" }) }),
      limits: new IngressLimits(new RedisRateLimiter(redis, keys), config.limits, registry),
    },
    log,
    registry,
    // "workers" opens no listener or link; "ingress" delivers only over the links it holds.
    roles: { ingress: role !== "workers", workers: role !== "ingress" },
  });

  running.gateway = gateway;
  const heartbeat = new ProcessHeartbeat(redis, keys, role, () => gateway.status(), (e) => log.warn({ err: errorMessage(e) }, "process heartbeat not written"));
  const token = await adminToken(config);
  const built = gateway;
  const readiness = [
    { name: "redis", check: async () => ({ ready: (await redis.ping()) === "PONG", detail: "ping" }) },
    ...[...adapterConfigs.keys()].map((n) => ({ name: `adapter.${n}`, check: async () => built.adapter(n)?.health() ?? { ready: false, detail: "not running" } })),
  ];
  const presenceAdmin = new PresenceAdmin(presence);
  // The web console (issue 17) shares the admin listener and its token.
  const webConsole = config.admin.enabled && token !== undefined
    ? new WebConsole({
        token, delivery, traces, presence: presenceAdmin, mappings: live, registry,
        links: () => Promise.all(readiness.map(async (c) => {
          try { return { name: c.name, ...(await c.check()) }; } catch (e) { return { name: c.name, ready: false, detail: errorMessage(e) }; }
        })),
      }, { log: log.child({ module: "console" }) })
    : undefined;
  const admin = config.admin.enabled
    ? new AdminServer({
        host: config.admin.host,
        port: config.admin.port,
        token,
        registry,
        log: log.child({ module: "admin" }),
        readiness,
        routes: [...dlqRoutes(delivery), ...presenceAdminRoutes(presenceAdmin), traceRoute(traces), ...mappingsRoutes(live)],
        pages: webConsole,
      })
    : undefined;
  if (admin && token === undefined) log.warn("admin.token is not set: the admin API answers only /healthz and /readyz");
  let adminAddress: { host: string; port: number } | undefined;

  return {
    gateway: built,
    delivery,
    presence,
    registry,
    redis,
    traces,
    live,
    adminAddress: () => adminAddress,
    async start() {
      // One process holding every link: after a crash, nothing is open without a live session
      // (RFC 2779 3.2.5); adapters republish what they find. With several processes another may
      // hold live links, so liveness deadlines do this instead.
      await live.start();
      if (role === "all") {
        const closed = await presence.reconcileOnStartup([]);
        if (closed > 0) log.info({ closed }, "presence reconciled after start: stale presentities closed");
      }
      await media.start({ listen: role !== "workers" }); // before the adapters: they link to and store files from the start
      await built.start();
      if (role !== "ingress") presence.start();
      heartbeat.start();
      if (admin) {
        webConsole?.start();
        const a = await admin.start();
        adminAddress = { host: a.address, port: a.port };
        log.info({ host: a.address, port: a.port }, "admin API listening");
      }
    },
    async stop(onIngressStopped?: () => void) {
      await heartbeat.stop();
      await admin?.stop();
      webConsole?.stop();
      presence.stop();
      await built.stop(onIngressStopped);
      await traceWriter?.drain();
      await live.stop();
      await media.stop();
      redis.disconnect();
    },
  };
}
