/**
 * A running gateway, built from its parts and a list of adapter factories (DESIGN §7). The core
 * knows adapters only through the contract; `bin/parley.ts` hands in `adapters/index.ts`.
 *
 * Lifecycle: start() starts each adapter (ingress) with its own context, then the delivery
 * workers. stop() drains the workers (running jobs finish), then stops the adapters; the parts'
 * connections are closed by whoever built them (see `src/build.ts`).
 */
import { Counter, Gauge } from "prom-client";
import type { AcceptResult, Adapter, AdapterContext, AdapterFactory, NetworkAddressing } from "./adapter/contract.js";
import { providesProfiles, type Profile } from "./adapter/profiles.js";
import { deliversOverLink, hasIngressControl } from "./adapter/ingress.js";
import type { Endpoint, NetworkId } from "./model/address.js";
import type { CanonicalEvent } from "./model/events.js";
import type { GatewayOptions } from "./gateway-options.js";
import { AcceptPipeline } from "./core/accept.js";
import { Dispatcher } from "./core/dispatch.js";
import { createCoreMetrics, type CoreMetrics } from "./core/metrics.js";
import { ParleyError, isParleyError } from "./errors/parley-error.js";
import { RoomService, linkedRooms } from "./rooms/service.js";
import { OpenRooms, linkedAndOpenRooms } from "./rooms/open.js";
import { createRoomMetrics, type RoomMetrics } from "./rooms/metrics.js";
import { TypingRelay } from "./core/typing.js";
import { EarlyRetry } from "./core/early-retry.js";
import { errorMessage } from "./errors/message.js";

export type { GatewayOptions, GatewayParts } from "./gateway-options.js";

export class Gateway {
  readonly metrics: CoreMetrics;
  private readonly adapters = new Map<NetworkId, Adapter>();
  private readonly factories: ReadonlyMap<NetworkId, AdapterFactory<unknown>>;
  private readonly pipeline: AcceptPipeline;
  private readonly dispatcher: Dispatcher;
  private readonly typing: TypingRelay;
  private readonly openRooms: OpenRooms | undefined;
  private started = false;
  /** Adapters' own counters (AdapterContext.counter), by name. */
  private readonly adapterCounters = new Map<string, Counter<"network">>();
  private readonly roomMetrics: RoomMetrics;
  private readinessTimer: NodeJS.Timeout | undefined;
  private readonly earlyRetry: EarlyRetry;

  constructor(private readonly options: GatewayOptions) {
    this.metrics = createCoreMetrics(options.registry);
    this.factories = new Map(options.factories.map((f) => [f.id, f]));
    const { parts, log } = options;
    const capabilities = (n: NetworkId) => { const a = this.adapters.get(n); return a ? (a.capabilities ?? this.factories.get(n)?.capabilities) : undefined; };
    const roomMetrics = createRoomMetrics(options.registry);
    this.earlyRetry = new EarlyRetry({ delivery: parts.delivery, log: log.child({ module: "delivery" }), registry: options.registry });
    this.roomMetrics = roomMetrics;
    const store = parts.openRooms;
    this.openRooms = store ? new OpenRooms({
      store, mappings: options.mappings, route: parts.route, adapters: (n) => this.adapters.get(n),
      addressing: (n) => this.factories.get(n)?.addressing, log: log.child({ module: "rooms" }), metrics: roomMetrics,
    }) : undefined;
    const roomLookup = options.rooms ?? (store ? linkedAndOpenRooms(options.mappings, store) : linkedRooms(options.mappings));
    const rooms = new RoomService({
      mappings: options.mappings, rooms: roomLookup, policy: parts.policy, delivery: parts.delivery,
      claims: parts.claims, ids: parts.ids, adapters: (n) => this.adapters.get(n), capabilities,
      log: log.child({ module: "rooms" }), metrics: roomMetrics,
    });
    this.typing = new TypingRelay({
      mappings: options.mappings, route: parts.route, policy: parts.policy, adapters: (n) => this.adapters.get(n), capabilities,
      log: log.child({ module: "typing" }), registry: options.registry, rooms: roomLookup,
    });
    this.pipeline = new AcceptPipeline({
      mappings: options.mappings,
      route: parts.route,
      policy: parts.policy,
      presence: parts.presence,
      delivery: parts.delivery,
      claims: parts.claims,
      ids: parts.ids,
      capabilities,
      log: log.child({ module: "accept" }),
      metrics: this.metrics,
      rooms,
      trace: parts.trace,
      typing: this.typing,
      ...(parts.limits ? { limits: parts.limits } : {}),
    });
    this.dispatcher = new Dispatcher({
      adapters: (n) => this.adapters.get(n),
      presence: parts.presence,
      delivery: parts.delivery,
      ids: parts.ids,
      log: log.child({ module: "dispatch" }),
      metrics: this.metrics,
      rooms,
      trace: parts.trace,
    });
    const adapters = this.adapters;
    new Gauge({
      name: "parley_adapter_ready",
      help: "1 while this process's adapter for a network is ready (its link up), else 0",
      labelNames: ["network"],
      registers: [options.registry],
      collect() {
        for (const [network, adapter] of adapters) this.set({ network }, adapter.health().ready ? 1 : 0);
      },
    });
    new Gauge({
      name: "parley_room_links_unhealthy",
      help: "Bridged rooms this process's adapter sees refusing or having removed Parley (kicked, banned, destroyed, join refused); cleared when a join succeeds again",
      labelNames: ["network"],
      registers: [options.registry],
      collect() {
        for (const [network, adapter] of adapters) this.set({ network }, adapter.health().rooms?.length ?? 0);
      },
    });
    for (const [network, config] of options.adapterConfigs) {
      const factory = this.factories.get(network);
      if (!factory) throw new ParleyError("PARLEY_CONFIG_INVALID", `adapters.${network}: no adapter named "${network}" (known: ${[...this.factories.keys()].join(", ")})`);
      this.adapters.set(network, factory.create(config));
    }
  }

  /** The running adapter of a network (for tests and the admin API). */
  adapter(network: NetworkId): Adapter | undefined {
    return this.adapters.get(network);
  }

  addressing(network: NetworkId): NetworkAddressing | undefined {
    return this.factories.get(network)?.addressing;
  }

  /** Accept events as `source`'s adapter does through its context (tests and benches call it too). */
  async accept(source: NetworkId, events: readonly CanonicalEvent[]): Promise<AcceptResult[]> {
    try {
      const results = await this.pipeline.accept(source, events);
      for (const r of results) if (r.status === "refused") this.metrics.refused.inc({ source, code: r.error.code });
      return results;
    } catch (e) {
      const error = isParleyError(e) ? e : new ParleyError("PARLEY_UNAVAILABLE", undefined, {}, { cause: e });
      this.metrics.refused.inc({ source, code: error.code }, events.length);
      this.options.log.warn({ source, code: error.code, err: error.message, events: events.length }, "inbound batch not accepted");
      // The sender is told only the catalogue's neutral text ("try again later"); the internal
      // detail (which Redis command failed, and why) is for the log above.
      throw error.info.retryable || error.code === "PARLEY_INTERNAL" ? new ParleyError(error.code, undefined, error.details, { cause: error }) : error;
    }
  }

  /** `who`'s profile from its home network's adapter in this process (none: undefined). */
  private async profileOf(who: Endpoint): Promise<Profile | undefined> {
    const adapter = this.adapters.get(who.network);
    if (!adapter || !providesProfiles(adapter)) return undefined;
    try {
      return await adapter.profileOf(who);
    } catch (e) {
      this.options.log.warn({ network: who.network, err: errorMessage(e) }, "profile not read");
      return undefined;
    }
  }

  private contextFor(network: NetworkId): AdapterContext {
    const { parts, log, mappings } = this.options;
    return {
      network,
      log: log.child({ module: `adapter.${network}` }),
      mappings,
      accept: (events) => this.accept(network, events),
      presenceFor: (watcher, presentity) => parts.presence.presenceFor(watcher, presentity),
      subscriptionsOf: (who, side) => parts.presence.subscriptionsOf(who, side),
      addressOn: (who: Endpoint, on: NetworkId) => {
        const addressing = this.factories.get(on)?.addressing;
        return addressing ? addressing.toNative(who, mappings()) : who.address;
      },
      state: parts.stateFor(network),
      ids: parts.ids,
      ...(parts.media ? { media: parts.media } : {}),
      ...(parts.blocks ? { blocks: parts.blocks } : {}),
      ...(parts.limits ? { limits: parts.limits.portFor(network) } : {}),
      ...(this.openRooms ? { rooms: this.openRooms } : {}),
      profiles: { profileOf: (who) => this.profileOf(who) },
      counter: (name, help) => {
        if (!name.startsWith("parley_")) throw new RangeError(`an adapter counter's name must start with parley_: ${name}`);
        let c = this.adapterCounters.get(name);
        if (!c) {
          c = new Counter({ name, help, labelNames: ["network"], registers: [this.options.registry] });
          this.adapterCounters.set(name, c);
        }
        const counter = c;
        return { inc: (n = 1) => counter.inc({ network }, n) };
      },
      peerAnswersAgain: () => { void this.earlyRetry.request(network); },
      roomLinkFailed: (reason) => this.roomMetrics.linkFailures.inc({ network, reason }),
    };
  }

  async start(): Promise<void> {
    if (this.started) return;
    const roles = this.options.roles ?? { ingress: true, workers: true };
    this.started = true;
    for (const [network, adapter] of this.adapters) {
      if (!roles.ingress && deliversOverLink(adapter)) continue; // its deliveries run where the link is
      await adapter.start({ ...this.contextFor(network), ingress: roles.ingress });
      this.options.log.info({ network, ingress: roles.ingress }, "adapter started");
    }
    if ([...this.adapters.keys()].some((n) => this.deliversHere(n))) {
      await this.options.parts.delivery.startWorkers(this.dispatcher, (n) => this.isReady(n));
      this.followReadiness();
    }
  }

  /** Whether this process's roles take `network`'s deliveries at all (see `roles`). */
  private deliversHere(network: NetworkId): boolean {
    const roles = this.options.roles ?? { ingress: true, workers: true };
    const adapter = this.adapters.get(network);
    if (!adapter) return false;
    return roles.ingress ? roles.workers || deliversOverLink(adapter) : !deliversOverLink(adapter);
  }

  /** Per running network: its link ready here, and whether this process takes its deliveries now (for `parley doctor`). */
  status(): Array<{ network: NetworkId; ready: boolean; delivering: boolean }> {
    const ingress = this.options.roles?.ingress ?? true;
    return [...this.adapters].filter(([, a]) => this.started && (ingress || !deliversOverLink(a))) // the adapters started here
      .map(([network, a]) => ({ network, ready: a.health().ready, delivering: this.isReady(network) }));
  }

  private isReady(network: NetworkId): boolean {
    return this.deliversHere(network) && (this.adapters.get(network)?.health().ready ?? false);
  }

  /**
   * Take a network's deliveries only while this process's adapter for it is ready (e.g. holds the
   * XMPP component link): jobs wait in the queue for a process that can deliver them, instead of
   * spending retry attempts here.
   */
  private followReadiness(): void {
    const active = new Map([...this.adapters.keys()].map((n) => [n, this.isReady(n)]));
    this.readinessTimer = setInterval(() => {
      for (const [network, was] of active) {
        const now = this.isReady(network);
        if (now === was) continue;
        active.set(network, now);
        this.options.parts.delivery.setLocalActive(network, now)
          // Ready again (e.g. the XMPP link is back): what backed off meanwhile goes now.
          .then(() => { if (now) void this.earlyRetry.request(network); })
          .catch((e: unknown) => this.options.log.warn({ network, err: errorMessage(e) }, "could not follow adapter readiness"));
      }
    }, this.options.readinessIntervalMs ?? 250);
    this.readinessTimer.unref();
  }

  /**
   * Graceful stop, in the order that loses nothing (src/adapter/ingress.ts): stop the listeners
   * (sources keep what they could not hand over and retry) while running deliveries drain, then stop
   * every adapter (links last: the XMPP component hands its link over; what it read until then is
   * still enqueued), then close the delivery service. The caller closes Redis
   * only after this resolves, so whatever is accepted meanwhile is stored or refused, never dropped.
   */
  async stop(onIngressStopped?: () => void): Promise<void> {
    if (!this.started) return;
    this.started = false;
    clearInterval(this.readinessTimer);
    this.typing.stop();
    const ingress = Promise.all([...this.adapters].filter(([, a]) => hasIngressControl(a)).map(async ([network, adapter]) => {
      try {
        if (hasIngressControl(adapter)) await adapter.stopIngress();
      } catch (e) {
        this.options.log.warn({ network, err: errorMessage(e) }, "adapter ingress did not stop cleanly");
      }
    }));
    // The delivery workers drain meanwhile, not after (issue 10: exit within 2 s of SIGTERM): they
    // take no new job from now on and finish the running ones (closeTimeoutMs). Accepting stays
    // open until close(), below, so what the ingress still accepts is enqueued.
    const workers = this.options.parts.delivery.stopWorkers();
    await ingress;
    onIngressStopped?.();
    // An adapter whose ingress stop also ended its deliveries (the XMPP link handed over) takes no
    // more jobs here: they would only fail, use up attempts and back off (issue 10).
    await Promise.all([...this.adapters].filter(([, a]) => !a.health().ready).map(([network]) =>
      this.options.parts.delivery.setLocalActive(network, false).catch(() => undefined)));
    await workers;
    for (const [network, adapter] of this.adapters) {
      try {
        await adapter.stop();
      } catch (e) {
        this.options.log.warn({ network, err: errorMessage(e) }, "adapter did not stop cleanly");
      }
    }
    // Only now: what a link read before it closed is still stored (issue 10, silent loss at shutdown).
    await this.options.parts.delivery.close();
  }

  health(): Record<string, { ready: boolean; detail: string }> {
    return Object.fromEntries([...this.adapters].map(([n, a]) => [n, a.health()]));
  }
}
