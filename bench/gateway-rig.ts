/**
 * The whole core for benches: a gateway built by `buildGateway` (accept → route → policy → BullMQ
 * → worker → adapter) between two test-double networks, the recipient's calling back on delivery.
 */
import { gatewayConfigSchema, type GatewayConfig } from "../src/config/index.js";
import { buildGateway, type Role } from "../src/build.js";
import { endpoint } from "../src/model/address.js";
import { newCanonicalId } from "../src/model/ids.js";
import { MessageSchema, type Message } from "../src/model/message.js";
import { silentLogger } from "../src/log/logger.js";
import { testDoubleFactory, TestDoublePeer } from "../test/support/test-double-adapter.js";
import { testMappings } from "../test/support/mappings.js";

const BENCH_NS = "urn:parley:bench";
export const alice = (i: number) => endpoint(`alice${i}@alpha.example`, "alpha");
export const bob = endpoint("bob@beta.example", "beta");

/** A canonical text message carrying its send time (ms, sub-ms precision) for latency. */
export function benchMessage(i: number, t0: number, body: string, conversations: number): Message {
  return MessageSchema.parse({
    id: newCanonicalId(), from: alice(i % conversations), to: bob, authenticatedBy: { method: "network" },
    sentAt: new Date().toISOString(), parts: [{ role: "text", body }], extensions: { [BENCH_NS]: { payload: t0 } },
  });
}

export const sentAt = (m: Message): number => m.extensions[BENCH_NS]?.payload as number;

export interface GatewayRig {
  accept(messages: readonly Message[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * `role` (default "all") and `cluster` (Redis Cluster seeds) let a bench split the core over
 * processes: one "ingress" process accepting, "workers" processes delivering (bench/scale.ts).
 */
export async function gatewayRig(o: { redisUrl: string; cluster?: readonly string[]; partitions?: number; role?: Role; prefix: string; concurrency: number; onDeliver: (m: Message) => void; trace?: boolean }): Promise<GatewayRig> {
  const beta = new TestDoublePeer();
  beta.onMessage = o.onDeliver;
  const factories = [testDoubleFactory("alpha"), testDoubleFactory("beta", beta)];
  const config = gatewayConfigSchema(factories).parse({
    redis: { url: o.redisUrl, keyPrefix: `${o.prefix}:`, ...(o.cluster ? { cluster: [...o.cluster] } : {}), ...(o.partitions ? { partitions: o.partitions } : {}) },
    admin: { enabled: false },
    delivery: { concurrency: o.concurrency },
    adapters: { alpha: {}, beta: {} },
    trace: { enabled: o.trace ?? true },
    limits: { enabled: false }, // a benchmark is one sender at full speed on purpose
  }) as GatewayConfig;
  const mappings = testMappings({ networks: { alpha: {}, beta: {} }, domains: { "alpha.example": { home: "alpha" }, "beta.example": { home: "beta" } } });
  const built = await buildGateway({ config, mappings, factories, log: silentLogger(), role: o.role ?? "all" });
  await built.start();
  return {
    async accept(messages) {
      const results = await built.gateway.accept(alice(0).network, messages.map((message) => ({ kind: "message" as const, message })));
      const bad = results.find((r) => r.status !== "accepted");
      if (bad) throw new Error(`bench message not accepted: ${JSON.stringify(bad)}`);
    },
    close: () => built.stop(),
  };
}
