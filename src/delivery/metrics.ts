/**
 * Delivery metrics (docs/operations.md "Metrics"). Registered on the registry the caller gives:
 * there is no global default registry, so two gateways (or two tests) in one process never clash.
 */
import { Counter, Gauge, Histogram, type Registry } from "prom-client";

export type CountsSource = () => Promise<Record<string, Record<string, number>>>;

export interface DeliveryMetrics {
  readonly completed: Counter<"queue">;
  /** Final failures (permanent, or retries spent). */
  readonly failed: Counter<"queue">;
  /** Transient failures that will be retried. */
  readonly retried: Counter<"queue">;
  /** Rate-limited answers (the queue paused for the destination's retry-after). */
  readonly rateLimited: Counter<"queue">;
  /** Enqueues refused because the conversation's backlog was at its bound (back-pressure on the source). */
  readonly backlogRefused: Counter<"queue">;
  /** Enqueue → handler done, seconds, successful jobs only. */
  readonly latency: Histogram<"queue">;
  /** Delivery queues (kinds × partitions) this process's workers serve, per network (ownership.ts). */
  readonly queuesServed?: Gauge<"network">;
  /** Jobs per queue and state, collected from the service's `counts()` at scrape time. */
  readonly depth: Gauge<"queue" | "state">;
  /** Point the depth gauge at a service (the last bound source wins). */
  bindCounts(source: CountsSource): void;
}

export function createDeliveryMetrics(registry: Registry): DeliveryMetrics {
  let source: CountsSource | undefined;
  const registers = [registry];
  const depth = new Gauge({
    name: "parley_delivery_queue_depth",
    help: "Delivery jobs per queue and state (waiting, delayed, active, failed, prioritized)",
    labelNames: ["queue", "state"] as const,
    registers,
    async collect() {
      if (!source) return;
      this.reset();
      try {
        const counts = await source();
        for (const [queue, states] of Object.entries(counts)) {
          for (const [state, n] of Object.entries(states)) this.set({ queue, state }, n);
        }
      } catch {
        // Redis down: report nothing rather than fail the whole scrape; readiness says why.
      }
    },
  });
  return {
    completed: new Counter({ name: "parley_delivery_jobs_completed_total", help: "Delivery jobs done successfully", labelNames: ["queue"] as const, registers }),
    failed: new Counter({ name: "parley_delivery_jobs_failed_total", help: "Delivery jobs failed for good (permanent or retries spent)", labelNames: ["queue"] as const, registers }),
    retried: new Counter({ name: "parley_delivery_jobs_retried_total", help: "Transient delivery failures scheduled for a retry", labelNames: ["queue"] as const, registers }),
    rateLimited: new Counter({ name: "parley_delivery_jobs_rate_limited_total", help: "Deliveries answered 'slow down' by the destination", labelNames: ["queue"] as const, registers }),
    backlogRefused: new Counter({ name: "parley_delivery_backlog_refused_total", help: "Enqueues refused because the conversation's backlog was at delivery.maxConversationBacklog (the source was told to try later)", labelNames: ["queue"] as const, registers }),
    latency: new Histogram({
      name: "parley_delivery_latency_seconds",
      help: "Enqueue to handler done, successful delivery jobs",
      labelNames: ["queue"] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    }),
    queuesServed: new Gauge({ name: "parley_delivery_queues_served", help: "Delivery queues (kinds x partitions) this process's workers serve, per network: the network's worker processes share its queues", labelNames: ["network"] as const, registers }),
    depth,
    bindCounts(s) { source = s; },
  };
}
