/** What a {@link Gateway} (gateway.ts) is built from: the core's connected services and its options. */
import type { Registry } from "prom-client";
import type { AdapterFactory } from "./adapter/contract.js";
import type { AdapterStateStore, IdMap } from "./adapter/state.js";
import type { MediaPort } from "./adapter/media.js";
import type { BlockPort } from "./adapter/blocks.js";
import type { NetworkId } from "./model/address.js";
import type { DomainMappings } from "./mappings/types.js";
import type { DeliveryService } from "./delivery/types.js";
import type { Logger } from "./log/logger.js";
import type { InboundClaims, MessagePolicy, PresencePort, RouteFn } from "./core/ports.js";
import type { RoomLookup } from "./rooms/service.js";
import type { OpenRoomStore } from "./store/open-rooms.js";
import type { Tracer } from "./trace/tracer.js";
import type { IngressLimits } from "./limits/ingress-limits.js";

/** The core's services, already connected. */
export interface GatewayParts {
  readonly delivery: DeliveryService;
  readonly ids: IdMap;
  readonly claims: InboundClaims;
  readonly route: RouteFn;
  readonly policy: MessagePolicy;
  readonly presence: PresencePort;
  /** Per-message trace (issue 17); none when absent. */
  readonly trace?: Tracer;
  /** Durable state for one adapter, under its own key prefix. */
  stateFor(network: NetworkId): AdapterStateStore;
  /** The shared media service (blob store, fetcher, media listener). */
  readonly media?: MediaPort;
  /** Users' own block lists. */
  readonly blocks?: BlockPort;
  /** Shared ingress rate limits (src/limits); none when absent. */
  readonly limits?: IngressLimits;
  /** Open rooms (issue 12); without it no room is opened with no admin step. */
  readonly openRooms?: OpenRoomStore;
}

export interface GatewayOptions {
  readonly factories: readonly AdapterFactory<unknown>[];
  /** Each adapter's validated config section, by network id; a factory without one is not started. */
  readonly adapterConfigs: ReadonlyMap<NetworkId, unknown>;
  readonly mappings: () => DomainMappings;
  readonly parts: GatewayParts;
  readonly log: Logger;
  readonly registry: Registry;
  /**
   * Which roles this process plays (docs/deployment.md, Roles): ingress (the adapters' listeners and
   * links) and delivery workers (which take a network's jobs only while its adapter here is ready).
   * Without ingress, adapters start send-only and one that delivers over its live link not at all;
   * without workers, only the networks that deliver over a link this process holds are delivered here.
   */
  readonly roles?: { readonly ingress: boolean; readonly workers: boolean };
  /** How often readiness is followed (ms, default 250). */
  readonly readinessIntervalMs?: number;
  /** Where canonical rooms are found (default: the mappings' linked rooms). */
  readonly rooms?: RoomLookup;
}
