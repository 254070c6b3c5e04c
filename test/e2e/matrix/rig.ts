/**
 * A Matrix adapter wired to one application-service slot of the tier's Synapse, with a FakeContext
 * whose state and id map are the real Redis stores under a unique key prefix (dedupe must survive
 * in Redis, not memory). Reusable by the lead's cross-network tests.
 */
import { inject } from "vitest";
import { Redis } from "ioredis";
import type { MatrixAdapter, MatrixConfig } from "../../../adapters/matrix/index.js";
import { matrixAdapter } from "../../../adapters/matrix/index.js";
import type { AcceptResult } from "../../../src/adapter/contract.js";
import type { CanonicalEvent } from "../../../src/model/events.js";
import type { DomainMappings } from "../../../src/mappings/types.js";
import { keyspace, deleteKeysUnder, RedisAdapterStateStore, RedisIdMap } from "../../../src/store/index.js";
import { asNetworkId } from "../../../src/model/address.js";
import type { Logger } from "../../../src/log/logger.js";
import { FakeContext } from "../../support/fake-context.js";
import { testMappings } from "../../support/mappings.js";
import { slotNetworkSettings, type AppserviceSlot, type SynapseCoordinates } from "../../harness/synapse/slots.js";
import { HttpProxy } from "../../harness/http-proxy.js";
import { freePort } from "../../support/ports.js";

export function matrixTestMappings(coords: SynapseCoordinates, slot: AppserviceSlot): DomainMappings {
  return testMappings({
    networks: { xmpp: {}, email: {}, matrix: { settings: slotNetworkSettings(coords.serverName, slot) } },
    domains: {
      [coords.serverName]: { home: "matrix" },
      "chat.example.org": { home: "xmpp" },
      "example.org": { home: "email" },
    },
  });
}

export interface Rig {
  readonly coords: SynapseCoordinates;
  readonly slot: AppserviceSlot;
  readonly mappings: DomainMappings;
  readonly ctx: FakeContext;
  readonly config: MatrixConfig;
  adapter: MatrixAdapter;
  readonly redis: Redis;
  /** With `proxied`: the proxy between the adapter and Synapse's client-server API, and the one between Synapse and the adapter's listener. */
  readonly proxies?: { readonly homeserver: HttpProxy; readonly appservice: HttpProxy };
  /** A fresh adapter instance on the same state (an adapter restart). */
  restartAdapter(): Promise<void>;
  stop(): Promise<void>;
}

export interface RigOptions {
  presenceRefreshSeconds?: number;
  decide?: (e: CanonicalEvent) => AcceptResult;
  log?: Logger;
  /** Put an {@link HttpProxy} on both links, to make Synapse's answers fail and observe the adapter's. */
  proxied?: boolean;
}

async function proxiesFor(coords: SynapseCoordinates, slot: AppserviceSlot): Promise<{ homeserver: HttpProxy; appservice: HttpProxy; listenPort: number }> {
  const listenPort = await freePort();
  // Synapse sends to the slot's registered URL: the proxy takes that port, the adapter another.
  return { homeserver: await HttpProxy.start(coords.baseUrl), appservice: await HttpProxy.start(`http://127.0.0.1:${listenPort}`, slot.port), listenPort };
}

export async function startRig(slotIndex: number, opts: RigOptions = {}): Promise<Rig> {
  const coords = inject("synapse");
  const slot = coords.appservices[slotIndex]!;
  const mappings = matrixTestMappings(coords, slot);
  const ctx = new FakeContext({ network: asNetworkId("matrix"), mappings, ...(opts.decide ? { decide: opts.decide } : {}), ...(opts.log ? { log: opts.log } : {}) });
  const redis = new Redis("redis://127.0.0.1:6379", { lazyConnect: false, maxRetriesPerRequest: 1 });
  const prefix = `parley-test-matrix-${slotIndex}-${Date.now().toString(36)}`;
  const keys = keyspace(prefix);
  // The real Redis stores behind the fake core: what the adapter persists is in Redis.
  Object.defineProperty(ctx, "state", { value: new RedisAdapterStateStore(redis, keys, asNetworkId("matrix")) });
  Object.defineProperty(ctx, "ids", { value: new RedisIdMap(redis, keys) });
  const proxies = opts.proxied ? await proxiesFor(coords, slot) : undefined;
  const config = matrixAdapter.configSchema.parse({
    homeserverUrl: proxies?.homeserver.url ?? coords.baseUrl, appserviceId: slot.id, asToken: slot.asToken, hsToken: slot.hsToken,
    listen: { host: "127.0.0.1", port: proxies?.listenPort ?? slot.port }, presenceRefreshSeconds: opts.presenceRefreshSeconds ?? 2,
  });
  const rig: Rig = {
    coords, slot, mappings, ctx, redis, config,
    ...(proxies ? { proxies: { homeserver: proxies.homeserver, appservice: proxies.appservice } } : {}),
    adapter: matrixAdapter.create(config),
    async restartAdapter() {
      await rig.adapter.stop();
      rig.adapter = matrixAdapter.create(config);
      await rig.adapter.start(ctx);
    },
    async stop() {
      await rig.adapter.stop();
      await Promise.all([rig.proxies?.homeserver.close(), rig.proxies?.appservice.close()]);
      await deleteKeysUnder(redis, prefix);
      redis.disconnect();
    },
  };
  await rig.adapter.start(ctx);
  return rig;
}
