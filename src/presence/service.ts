/**
 * The presence service (DESIGN §4): what the accept pipeline calls for presence, probes and
 * subscription actions, what adapters read through their context, and what delivery workers
 * call for presence and subscription jobs. Authentication (RFC 2779 2.3.4, 5.1.1, 5.2.4), versions
 * (3.3.2), block lists (5.1.13), polite blocking (5.1.15) and liveness (3.2.4, 3.2.5) live here.
 */
import type { AcceptResult } from "../adapter/contract.js";
import { DeliveryError } from "../adapter/contract.js";
import { domainOf, endpointKey, type Endpoint, type NetworkId } from "../model/address.js";
import { isAuthenticated } from "../model/common.js";
import type { PresenceEvent, PresenceProbeEvent, SubscriptionEvent } from "../model/events.js";
import { PresenceSchema, type Presence } from "../model/presence.js";
import { SubscriptionRequestSchema, type Subscription } from "../model/subscription.js";
import type { DeliveryJob } from "../delivery/types.js";
import { ParleyError, isParleyError } from "../errors/parley-error.js";
import { createParts, subscriptionAdapter, type PresenceParts, type PresenceServiceOptions } from "./context.js";
import { notify, notifyBatch, projectedFor, runFanout } from "./fanout.js";
import { fanoutJob, PresenceJobPayloadSchema, SubscriptionJobPayloadSchema } from "./jobs.js";
import { addProbe, answerProbes } from "./probes.js";
import { applySubscription, asToldToWatcher, showWaitingRequests } from "./subscribe.js";
import { Liveness } from "./liveness.js";
import type { InlineFanout } from "./store.js";
import { errorMessage } from "../errors/message.js";

const refused = (error: ParleyError): AcceptResult => ({ status: "refused", error });

/** Redis failures become PARLEY_UNAVAILABLE: nothing was stored, the source should retry. */
async function storing<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    if (isParleyError(e) || e instanceof DeliveryError) throw e;
    throw new ParleyError("PARLEY_UNAVAILABLE", undefined, {}, { cause: e });
  }
}

export class PresenceService {
  readonly parts: PresenceParts;
  readonly liveness: Liveness;

  constructor(options: PresenceServiceOptions) {
    this.parts = createParts(options);
    this.liveness = new Liveness(this.parts, (who, fanOutNow) => this.afterWrite(who, fanOutNow, false, Infinity));
  }

  /**
   * Only `who`'s own network speaks for it: the source adapter must be its network, and a listed
   * domain's users live on that domain's home network (RFC 2779 2.3.4, 5.1.1, 5.2.4, 5.3.3).
   */
  private speaksFor(who: Endpoint, source: NetworkId): ParleyError | undefined {
    if (who.network !== source) return new ParleyError("PARLEY_NOT_AUTHENTICATED", `a ${source} connection cannot speak for ${endpointKey(who)}`);
    const home = this.parts.options.mappings().domains.get(domainOf(who.address))?.home;
    if (home !== undefined && home !== who.network) return new ParleyError("PARLEY_NOT_AUTHENTICATED", `${who.address} lives on ${home}, not ${who.network}`);
    return undefined;
  }

  private presenceRefusal(who: Endpoint): ParleyError | undefined {
    if (!this.parts.options.hasPresence(who.network)) return new ParleyError("PARLEY_UNSUPPORTED", `${who.network} addresses have no presence`);
    const mappings = this.parts.options.mappings();
    const policy = mappings.domains.get(domainOf(who.address))?.policy ?? mappings.defaultPolicy;
    if (!policy.presence || !policy.enabled) return new ParleyError("PARLEY_DISABLED", `presence is switched off for ${domainOf(who.address)}`);
    return undefined;
  }

  /** A presence update from `source` (the gateway's accept pipeline). */
  async publish(event: PresenceEvent, source: NetworkId): Promise<AcceptResult> {
    const parsed = PresenceSchema.safeParse(event.presence);
    if (!parsed.success) return refused(new ParleyError("PARLEY_INVALID_EVENT", `presence ${parsed.error.issues[0]?.path.join(".") ?? ""}: ${parsed.error.issues[0]?.message ?? "invalid"}`));
    const presence = parsed.data;
    const who = presence.presentity;
    const forged = this.speaksFor(who, source) ?? (isAuthenticated(event.authenticatedBy) ? undefined : new ParleyError("PARLEY_NOT_AUTHENTICATED", "presence needs a proved sender"));
    if (forged) {
      this.parts.log.warn({ presentity: endpointKey(who), source }, "forged presence dropped");
      return refused(forged);
    }
    const off = this.presenceRefusal(who);
    if (off) return refused(off);
    return storing(async () => {
      const result = await this.parts.store.publish(presence, this.parts.now());
      if (result.status === "stale") return { status: "duplicate" } as const;
      if (result.status === "unchanged") return { status: "accepted" } as const;
      await this.afterWrite(who, result.fanOutNow, result.cameOnline, result.watcherRecords, result.inline);
      return { status: "accepted" } as const;
    });
  }

  /**
   * After a stored change: fan out now — at once for a few watchers, else through a fan-out job —
   * or leave it to the throttle's due list; and show waiting requests.
   */
  private async afterWrite(who: Endpoint, fanOutNow: boolean, cameOnline: boolean, watcherRecords = Infinity, inline?: InlineFanout): Promise<void> {
    if (fanOutNow && watcherRecords > 0) {
      try {
        if (inline !== undefined || watcherRecords <= this.parts.inlineFanoutMax) await runFanout(this.parts, who, false, inline);
        else await this.parts.options.delivery.enqueue([fanoutJob(who)]);
      } catch (e) {
        // The change is stored; put its fan-out on the due list so the timer retries it.
        await this.parts.store.deferFanout(who, this.parts.now());
        this.parts.log.warn({ presentity: endpointKey(who), err: errorMessage(e) }, "fan-out deferred");
      }
    }
    if (cameOnline) await showWaitingRequests(this.parts, who);
  }

  /** A probe or fetch: answered by the watcher's probe job, which projects the newest state (RFC 2779 3.2.1, 2.2.4). */
  async probe(event: PresenceProbeEvent, source: NetworkId): Promise<AcceptResult> {
    const forged = this.speaksFor(event.watcher, source) ?? (isAuthenticated(event.authenticatedBy) ? undefined : new ParleyError("PARLEY_NOT_AUTHENTICATED", "a probe needs a proved sender"));
    if (forged) return refused(forged);
    if (!this.parts.options.hasPresence(event.watcher.network)) return refused(new ParleyError("PARLEY_UNSUPPORTED", `${event.watcher.network} addresses have no presence`));
    return storing(async () => {
      await addProbe(this.parts, event.watcher, event.presentity);
      return { status: "accepted" } as const;
    });
  }

  /** A subscription action from `source`; only its rightful actor on its own network may take it. */
  async subscription(event: SubscriptionEvent, source: NetworkId): Promise<AcceptResult> {
    const parsed = SubscriptionRequestSchema.safeParse(event.request);
    if (!parsed.success) return refused(new ParleyError("PARLEY_INVALID_EVENT", `subscription ${parsed.error.issues[0]?.message ?? "invalid"}`));
    const req = parsed.data;
    const forged = this.speaksFor(req.actor, source);
    if (forged) {
      this.parts.log.warn({ actor: endpointKey(req.actor), source, action: req.action }, "forged subscription action dropped");
      return refused(forged);
    }
    const off = this.presenceRefusal(req.presentity) ?? (this.parts.options.hasPresence(req.watcher.network) ? undefined : new ParleyError("PARLEY_UNSUPPORTED", `${req.watcher.network} addresses cannot watch presence`));
    if (off) return refused(off);
    return storing(() => applySubscription(this.parts, req));
  }

  /** AdapterContext.presenceFor: the projection, read now (RFC 2779 2.3.3, 3.3.3). */
  async presenceFor(watcher: Endpoint, presentity: Endpoint): Promise<Presence | undefined> {
    return projectedFor(this.parts, watcher, presentity);
  }

  /**
   * AdapterContext.subscriptionsOf. The watcher's side never shows a polite block (5.1.15); the
   * presentity's side shows the truth, for the presentity and admins only (5.1.2, 5.1.11).
   */
  async subscriptionsOf(who: Endpoint, side: "watchers" | "watching"): Promise<readonly Subscription[]> {
    const list = await this.parts.subscriptions.list(who, side);
    return side === "watching" ? list.map(asToldToWatcher) : list;
  }

  /** A `presence` or `subscription` delivery job. */
  async handleJob(job: DeliveryJob): Promise<void> {
    if (job.kind === "subscription") return this.handleSubscriptionJob(job);
    if (job.kind === "presence") return this.handlePresenceJob(job);
    throw new DeliveryError("permanent", "bad-request", `the presence service does not handle ${job.kind} jobs`);
  }

  async handlePresenceJob(job: DeliveryJob): Promise<void> {
    const parsed = PresenceJobPayloadSchema.safeParse(job.payload);
    if (!parsed.success) throw new DeliveryError("permanent", "bad-request", "malformed presence job");
    const payload = parsed.data;
    if (payload.op === "fanout") {
      await runFanout(this.parts, payload.presentity, payload.force ?? false);
      return;
    }
    if (payload.op === "probes") {
      await answerProbes(this.parts, payload.watcher);
      return;
    }
    if (payload.op === "batch") {
      await notifyBatch(this.parts, job.network, payload.presentity, payload.watchers);
      return;
    }
    await notify(this.parts, payload.watcher, payload.presentity);
  }

  async handleSubscriptionJob(job: DeliveryJob): Promise<void> {
    const parsed = SubscriptionJobPayloadSchema.safeParse(job.payload);
    if (!parsed.success) throw new DeliveryError("permanent", "bad-request", "malformed subscription job");
    const { to, notice, subscription } = parsed.data;
    if (notice === "request") {
      // A request answered or withdrawn meanwhile is not shown any more.
      const current = await this.parts.subscriptions.get(subscription.watcher, subscription.presentity);
      if (current?.state !== "pending") return;
    }
    await subscriptionAdapter(this.parts, to.network)?.deliverSubscription({ to, notice, subscription });
  }

  /** Start the timers: due (throttled) fan-outs and liveness sweeps. */
  start(): void { this.liveness.start(); }
  stop(): void { this.liveness.stop(); }

  /** One timer round; tests call it directly. */
  tick(now = this.parts.now()): Promise<{ fanouts: number; closed: number }> {
    return this.liveness.tick(now);
  }

  /** Close presentities whose liveness deadline passed (RFC 2779 3.2.4). */
  markStale(now = this.parts.now()): Promise<number> { return this.liveness.markStale(now); }

  /** After a crash: every open presentity without a live session goes CLOSED (RFC 2779 3.2.5). */
  reconcileOnStartup(liveSessions: readonly Endpoint[]): Promise<number> { return this.liveness.reconcile(liveSessions); }

  /** Keep presentities open whose network vouched for a live session (e.g. a ping answered). */
  touch(who: readonly Endpoint[]): Promise<void> { return this.parts.store.touch(who, this.parts.now()); }
}
