/**
 * "The peer answers again": retry now what waits on a backoff for that network (issue 10, stalls;
 * src/delivery/retry-now.ts does the moving). Called by an adapter that found its peer back
 * (AdapterContext.peerAnswersAgain) and by the gateway when this process's link for a network is
 * ready again. Calls for one network run one at a time, and not again within `quietMs` of the
 * last run: a burst of "it answers" signals costs one scan of the delayed jobs.
 */
import { Counter, type Registry } from "prom-client";
import type { DeliveryService } from "../delivery/types.js";
import { errorMessage } from "../errors/message.js";
import type { Logger } from "../log/logger.js";
import type { NetworkId } from "../model/address.js";

export interface EarlyRetryDeps {
  readonly delivery: Pick<DeliveryService, "retryNow">;
  readonly log: Logger;
  readonly registry: Registry;
  /** Default 5 s. */
  readonly quietMs?: number;
}

export class EarlyRetry {
  private readonly running = new Map<NetworkId, Promise<void>>();
  private readonly lastRun = new Map<NetworkId, number>();
  private readonly promoted: Counter<"network">;

  constructor(private readonly d: EarlyRetryDeps) {
    this.promoted = new Counter({
      name: "parley_delivery_retried_early_total",
      help: "Deliveries retried at once because their network's peer answered again, instead of waiting out their backoff.",
      labelNames: ["network"],
      registers: [d.registry],
    });
  }

  /** Ask for an early retry of `network`'s backed-off jobs; resolves when that run (or the one it joined) ended. */
  request(network: NetworkId): Promise<void> {
    const inFlight = this.running.get(network);
    if (inFlight) return inFlight;
    if (Date.now() - (this.lastRun.get(network) ?? 0) < (this.d.quietMs ?? 5_000)) return Promise.resolve();
    this.lastRun.set(network, Date.now());
    const run = this.d.delivery.retryNow(network)
      .then((n) => { this.promoted.inc({ network }, n); })
      .catch((e: unknown) => { this.d.log.warn({ network, err: errorMessage(e) }, "early retry failed; the backoff stays"); })
      .finally(() => { this.running.delete(network); });
    this.running.set(network, run);
    return run;
  }
}
