/**
 * An in-memory AdapterContext for adapter tests that run without the gateway core: it records
 * what the adapter accepts and keeps state in maps. Tests that need the real core use
 * `createGateway` instead.
 */
import type { AcceptResult, AdapterContext } from "../../src/adapter/contract.js";
import type { AdapterStateStore, IdMap } from "../../src/adapter/state.js";
import type { CanonicalEvent } from "../../src/model/events.js";
import { endpointKey, type Endpoint, type NetworkId } from "../../src/model/address.js";
import type { CanonicalId } from "../../src/model/ids.js";
import type { NativeId } from "../../src/model/message.js";
import type { Presence } from "../../src/model/presence.js";
import type { Subscription } from "../../src/model/subscription.js";
import type { DomainMappings } from "../../src/mappings/types.js";
import type { NetworkAddressing } from "../../src/adapter/contract.js";
import type { InboundClaims } from "../../src/core/ports.js";
import { silentLogger, type Logger } from "../../src/log/logger.js";
import type { ParleyError } from "../../src/errors/parley-error.js";

export class MemoryStateStore implements AdapterStateStore {
  readonly values = new Map<string, string>();
  private readonly leases = new Map<string, { holder: string; until: number }>();
  async get(key: string) { return this.values.get(key); }
  async set(key: string, value: string) { this.values.set(key, value); }
  async setIfAbsent(key: string, value: string) {
    if (this.values.has(key)) return false;
    this.values.set(key, value);
    return true;
  }
  async delete(key: string) { this.values.delete(key); }
  async lease(name: string, holder: string, ttlMs: number) {
    const current = this.leases.get(name);
    if (current && current.holder !== holder && current.until > Date.now()) return false;
    this.leases.set(name, { holder, until: Date.now() + ttlMs });
    return true;
  }
  async releaseLease(name: string, holder: string) {
    if (this.leases.get(name)?.holder === holder) this.leases.delete(name);
  }
  readonly maps = new Map<string, Map<string, string>>();
  private mapOf(map: string): Map<string, string> {
    let m = this.maps.get(map);
    if (!m) this.maps.set(map, (m = new Map()));
    return m;
  }
  async mapSet(map: string, field: string, value: string) { this.mapOf(map).set(field, value); }
  async mapDelete(map: string, field: string) { this.mapOf(map).delete(field); }
  async mapGet(map: string, field: string) { return this.mapOf(map).get(field); }
  async mapScan(map: string) { return { cursor: "0", entries: [...this.mapOf(map).entries()] }; }
}

export class MemoryIdMap implements IdMap {
  private readonly toCanonical = new Map<string, CanonicalId>();
  private readonly toNative = new Map<string, NativeId>();
  private static nativeKey(n: Pick<NativeId, "network" | "kind" | "id" | "scope">) { return `${n.network}|${n.kind}|${n.scope ?? ""}|${n.id}`; }
  async link(canonical: CanonicalId, native: NativeId) {
    this.toCanonical.set(MemoryIdMap.nativeKey(native), canonical);
    this.toNative.set(`${canonical}|${native.network}|${native.kind}`, native);
  }
  async canonicalFor(native: Pick<NativeId, "network" | "kind" | "id" | "scope">) { return this.toCanonical.get(MemoryIdMap.nativeKey(native)); }
  async nativeFor(canonical: CanonicalId, network: string, kind: string) { return this.toNative.get(`${canonical}|${network}|${kind}`); }
}

export interface FakeContextOptions {
  network: NetworkId;
  mappings: DomainMappings;
  /** Addressing of every network, to answer addressOn(). */
  addressing?: ReadonlyMap<NetworkId, NetworkAddressing>;
  log?: Logger;
  /** Decide what accept() answers; default: every event accepted. */
  decide?: (event: CanonicalEvent) => AcceptResult;
}

export class FakeContext implements AdapterContext {
  readonly network: NetworkId;
  readonly log: Logger;
  readonly state = new MemoryStateStore();
  readonly ids = new MemoryIdMap();
  readonly accepted: CanonicalEvent[] = [];
  readonly presences = new Map<string, Presence>();
  readonly subscriptions: Subscription[] = [];
  /** When set, accept() rejects with it (nothing could be stored: the adapter must answer "try later"). */
  rejectWith: ParleyError | undefined;
  /** When set, accept() refuses every event with it (the adapter must answer with the network's error). */
  refuseWith: ParleyError | undefined;
  private readonly waiters: Array<{ match: (e: CanonicalEvent) => boolean; resolve: (e: CanonicalEvent) => void }> = [];

  constructor(private readonly options: FakeContextOptions) {
    this.network = options.network;
    this.log = options.log ?? silentLogger();
  }

  mappings() { return this.options.mappings; }

  async accept(events: readonly CanonicalEvent[]): Promise<AcceptResult[]> {
    if (this.rejectWith) throw this.rejectWith;
    return events.map((event) => {
      const result: AcceptResult = this.refuseWith ? { status: "refused", error: this.refuseWith } : this.options.decide?.(event) ?? { status: "accepted" as const };
      if (result.status === "accepted") {
        this.accepted.push(event);
        for (const w of [...this.waiters]) {
          if (w.match(event)) {
            this.waiters.splice(this.waiters.indexOf(w), 1);
            w.resolve(event);
          }
        }
      }
      return result;
    });
  }

  /** Resolve with the first accepted event (past or future) that matches. */
  waitForAccepted<E extends CanonicalEvent>(match: (e: CanonicalEvent) => e is E, timeoutMs = 10_000): Promise<E> {
    const seen = this.accepted.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise<E>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching event accepted within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({ match, resolve: (e) => { clearTimeout(timer); resolve(e as E); } /* narrowed by match */ });
    });
  }

  async presenceFor(_watcher: Endpoint, presentity: Endpoint) { return this.presences.get(endpointKey(presentity)); }

  async subscriptionsOf(who: Endpoint, side: "watchers" | "watching") {
    const key = endpointKey(who);
    return this.subscriptions.filter((s) => endpointKey(side === "watchers" ? s.presentity : s.watcher) === key);
  }

  addressOn(who: Endpoint, network: NetworkId): string {
    const addressing = this.options.addressing?.get(network);
    return addressing ? addressing.toNative(who, this.options.mappings) : who.address;
  }
}

/** Inbound claims in memory (the Redis ones are in src/store/claims.ts). */
export class MemoryClaims implements InboundClaims {
  readonly claims = new Map<string, CanonicalId>();
  async claim(key: string, id: CanonicalId) {
    const earlier = this.claims.get(key);
    if (earlier === undefined) this.claims.set(key, id);
    return earlier;
  }
  async release(key: string, id: CanonicalId) { if (this.claims.get(key) === id) this.claims.delete(key); }
}
