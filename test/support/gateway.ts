/**
 * Start a real gateway (real Redis, BullMQ, presence) for a test: its own key prefix, fast
 * retries, no admin listener unless asked, and its blob store in a temporary directory of its
 * prefix (never the product default `./data/blobs`, which would land in the checkout).
 * `destroy()` stops it and deletes its keys and its blobs.
 */
import { Redis } from "ioredis";
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AdapterFactory } from "../../src/adapter/contract.js";
import type { DomainMappings } from "../../src/mappings/types.js";
import { gatewayConfigSchema, type GatewayConfig } from "../../src/config/schema.js";
import { buildGateway, type BuiltGateway, type Role } from "../../src/build.js";
import { deleteKeysUnder } from "../../src/store/index.js";
import { silentLogger, type Logger } from "../../src/log/logger.js";

export interface TestGatewayOptions {
  factories: readonly AdapterFactory<unknown>[];
  /** `adapters.<id>` sections; networks without one do not run. */
  adapters: Record<string, unknown>;
  mappings: DomainMappings;
  redisUrl?: string;
  /** Seed nodes of a Redis Cluster (`redis.cluster`); its keys are left to the cluster's own teardown. */
  cluster?: string[];
  prefix?: string;
  role?: Role;
  admin?: { token: string };
  delivery?: Partial<GatewayConfig["delivery"]>;
  trace?: Partial<GatewayConfig["trace"]>;
  /** Shared ingress rate limits; off unless given (tests send bursts from one sender on purpose). */
  limits?: Partial<GatewayConfig["limits"]>;
  /**
   * The `media` section (blob store directory, listener, fetcher allow list, limits). Without
   * `dir`, the blobs go to {@link testBlobDir} of the prefix.
   */
  media?: Record<string, unknown>;
  log?: Logger;
}

export interface TestGateway extends BuiltGateway {
  readonly prefix: string;
  readonly config: GatewayConfig;
  /** Stop and delete every key under the prefix. */
  destroy(): Promise<void>;
}

export function testPrefix(name: string): string {
  return `test-${name}-${randomBytes(4).toString("hex")}`;
}

/**
 * Where a test gateway on `prefix` keeps its blobs unless told otherwise: under the system's
 * temporary directory, one per prefix, so a gateway restarted on the same prefix finds its files.
 */
export function testBlobDir(prefix: string): string {
  return join(tmpdir(), "parley-test-blobs", prefix);
}

export async function startTestGateway(o: TestGatewayOptions): Promise<TestGateway> {
  const prefix = o.prefix ?? testPrefix("gw");
  const redisUrl = o.redisUrl ?? "redis://127.0.0.1:6379";
  const config = gatewayConfigSchema(o.factories).parse({
    redis: { url: redisUrl, keyPrefix: `${prefix}:`, ...(o.cluster ? { cluster: o.cluster } : {}) },
    admin: o.admin ? { enabled: true, port: 0, token: o.admin.token } : { enabled: false },
    delivery: { attempts: 3, backoffBaseMs: 50, backoffCapMs: 500, concurrency: 8, ...o.delivery },
    presence: { livenessTimeoutMs: 60_000 },
    adapters: o.adapters,
    trace: { flushMs: 0, ...o.trace },
    limits: o.limits ?? { enabled: false },
    media: { dir: testBlobDir(prefix), ...o.media },
  }) as GatewayConfig;
  const built = await buildGateway({
    config, mappings: o.mappings, factories: o.factories, log: o.log ?? silentLogger(), role: o.role,
    deliveryTuning: { lockDurationMs: 5_000, stalledIntervalMs: 2_000, parkMs: 500 },
  });
  await built.start();
  let destroyed = false;
  return {
    ...built,
    prefix,
    config,
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      await built.stop();
      if (config.media.dir === testBlobDir(prefix)) rmSync(config.media.dir, { recursive: true, force: true });
      if (o.cluster) return;
      const redis = new Redis(redisUrl);
      try { await deleteKeysUnder(redis, prefix); } finally { redis.disconnect(); }
    },
  };
}
