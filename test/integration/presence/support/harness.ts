/**
 * A presence service on the real local Redis (unique key prefix per test), with test-double
 * adapters for the networks and an in-memory delivery service, plus helpers that speak as the
 * networks' adapters would.
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { PresenceService } from "../../../../src/presence/service.js";
import { PresenceAdmin } from "../../../../src/presence/admin.js";
import type { AcceptResult } from "../../../../src/adapter/contract.js";
import { asNetworkId, endpoint, type Endpoint, type NetworkId } from "../../../../src/model/address.js";
import type { Authentication } from "../../../../src/model/common.js";
import type { Presence, Tuple } from "../../../../src/model/presence.js";
import type { SubscriptionAction } from "../../../../src/model/subscription.js";
import type { DomainPolicy } from "../../../../src/mappings/types.js";
import type { DeliveryHandler, DeliveryService } from "../../../../src/delivery/types.js";
import { silentLogger, type Logger } from "../../../../src/log/logger.js";
import { testMappings } from "../../../support/mappings.js";
import { TestDoubleAdapter, TestDoublePeer } from "../../../support/test-double-adapter.js";
import { MemoryDelivery } from "../../../support/memory-delivery.js";
import { mastersOf, type RedisClient } from "../../../../src/store/redis.js";

export const NETWORKS = ["xmpp", "matrix", "email"] as const;
export const T0 = Date.parse("2026-11-24T00:00:00.000Z");

export interface HarnessOptions {
  domainPolicy?: Partial<DomainPolicy>;
  livenessTimeoutMs?: number;
  fanoutIntervalMs?: number;
  log?: Logger;
  delivery?: DeliveryService;
  linkReady?: (network: NetworkId) => boolean | undefined;
  /** Another Redis (a Redis Cluster client) with its key shards; default the local Redis, unsharded. */
  redis?: RedisClient;
  shards?: number;
}

export class PresenceHarness {
  readonly redis: RedisClient;
  readonly prefix = `test:h6:${randomUUID()}:`;
  readonly peers = new Map<NetworkId, TestDoublePeer>();
  readonly adapters = new Map<NetworkId, TestDoubleAdapter>();
  readonly delivery: DeliveryService;
  readonly memory: MemoryDelivery | undefined;
  service: PresenceService;
  admin: PresenceAdmin;
  private readonly build: () => PresenceService;
  clock = T0;
  private version = 0;

  constructor(options: HarnessOptions = {}) {
    this.redis = options.redis ?? new Redis({ host: "127.0.0.1", port: 6379, maxRetriesPerRequest: 1 });
    for (const n of NETWORKS) {
      const peer = new TestDoublePeer();
      this.peers.set(asNetworkId(n), peer);
      this.adapters.set(asNetworkId(n), new TestDoubleAdapter(peer));
    }
    const policy = options.domainPolicy ?? {};
    const mappings = testMappings({
      networks: { xmpp: {}, matrix: {}, email: {} },
      domains: {
        "chat.example.org": { home: "xmpp", policy },
        "jabber.example.net": { home: "xmpp", policy },
        "matrix.example.org": { home: "matrix", policy },
        "example.org": { home: "email", policy },
      },
      defaultPolicy: policy,
    });
    this.memory = options.delivery ? undefined : new MemoryDelivery();
    this.delivery = options.delivery ?? this.memory!;
    this.build = () => new PresenceService({
      redis: this.redis,
      prefix: this.prefix,
      mappings: () => mappings,
      delivery: this.delivery,
      adapters: (n) => this.adapters.get(n),
      hasPresence: (n) => n !== "email",
      log: options.log ?? silentLogger(),
      now: () => this.clock,
      livenessTimeoutMs: options.livenessTimeoutMs ?? 60_000,
      fanoutIntervalMs: options.fanoutIntervalMs ?? 1000,
      shards: options.shards ?? 0,
      ...(options.linkReady ? { linkReady: options.linkReady } : {}),
    });
    this.service = this.build();
    this.admin = new PresenceAdmin(this.service);
  }

  /** A fresh service on the same Redis and prefix, as after a gateway restart. */
  restart(): void {
    this.service.stop();
    this.service = this.build();
    this.admin = new PresenceAdmin(this.service);
  }

  peer(network: string): TestDoublePeer { return this.peers.get(asNetworkId(network))!; }

  /** The delivery handler the gateway's dispatcher would be for these job kinds. */
  get handler(): DeliveryHandler {
    return { deliver: (job) => this.service.handleJob(job), onFinalFailure: async () => undefined };
  }

  async drain(): Promise<number> { return this.memory!.drain(this.handler); }

  presence(who: Endpoint, basic: "open" | "closed", opts: { version?: number; show?: Tuple["show"]; note?: string; resource?: string; tuples?: Tuple[] } = {}): Presence {
    const timestamp = new Date(this.clock).toISOString();
    const tuple: Tuple = { id: opts.resource ?? "phone", service: "im", basic, timestamp };
    if (opts.show) tuple.show = opts.show;
    if (opts.note) tuple.note = { en: opts.note };
    return { presentity: who, tuples: opts.tuples ?? [tuple], version: opts.version ?? ++this.version, provenance: { source: "origin" }, extensions: {} };
  }

  /** Publish as `source`'s adapter would (default: the presentity's own network, authenticated). */
  publish(who: Endpoint, basic: "open" | "closed", opts: Parameters<PresenceHarness["presence"]>[2] & { source?: string; auth?: Authentication } = {}): Promise<AcceptResult> {
    return this.service.publish(
      { kind: "presence", presence: this.presence(who, basic, opts), authenticatedBy: opts.auth ?? { method: "network", detail: "test" } },
      asNetworkId(opts.source ?? who.network),
    );
  }

  /** A subscription action; by default from its rightful actor on the actor's own network, authenticated. */
  act(action: SubscriptionAction, watcher: Endpoint, presentity: Endpoint, opts: { actor?: Endpoint; source?: string; auth?: Authentication } = {}): Promise<AcceptResult> {
    const actor = opts.actor ?? (action === "request" || action === "cancel" ? watcher : presentity);
    return this.service.subscription(
      { kind: "subscription", request: { action, watcher, presentity, actor, authenticatedBy: opts.auth ?? { method: "network", detail: "test" }, at: new Date(this.clock).toISOString() } },
      asNetworkId(opts.source ?? actor.network),
    );
  }

  probe(watcher: Endpoint, presentity: Endpoint, source?: string): Promise<AcceptResult> {
    return this.service.probe({ kind: "presence-probe", watcher, presentity, authenticatedBy: { method: "network" } }, asNetworkId(source ?? watcher.network));
  }

  /** Make `watcher` an approved watcher of `presentity` (request + approval), then clear the peers. */
  async subscribe(watcher: Endpoint, presentity: Endpoint): Promise<void> {
    await this.act("request", watcher, presentity);
    await this.act("approve", watcher, presentity);
    await this.drain();
    this.clearPeers();
  }

  clearPeers(): void {
    for (const p of this.peers.values()) {
      p.presences.length = 0;
      p.subscriptions.length = 0;
    }
  }

  /** Presence notifications `watcher` received (from `presentity` if given). */
  seen(watcher: Endpoint, presentity?: Endpoint): Presence[] {
    return this.peer(watcher.network).presences
      .filter((n) => n.watcher.address === watcher.address && (presentity === undefined || n.presence.presentity.address === presentity.address))
      .map((n) => n.presence);
  }

  async close(): Promise<void> {
    for (const node of mastersOf(this.redis)) {
      let cursor = "0";
      do {
        const [next, keys] = await node.scan(cursor, "MATCH", `${this.prefix}*`, "COUNT", 1000);
        cursor = next;
        for (const k of keys) await node.del(k);
      } while (cursor !== "0");
    }
    await this.redis.quit();
  }
}

export const alice = endpoint("alice@chat.example.org", "xmpp");
export const bob = endpoint("bob@matrix.example.org", "matrix");
export const carol = endpoint("carol@example.org", "email");
export const dave = endpoint("dave@chat.example.org", "xmpp");
export const erin = endpoint("erin@matrix.example.org", "matrix");
export const mallory = endpoint("mallory@jabber.example.net", "xmpp");
