/** Prometheus metrics of the core pipeline: what an operator watches (docs/operations.md). */
import { Counter, Histogram, type Registry } from "prom-client";

export interface CoreMetrics {
  readonly accepted: Counter<"source" | "target">;
  readonly refused: Counter<"source" | "code">;
  readonly delivered: Counter<"network" | "kind" | "state">;
  readonly failed: Counter<"network" | "kind" | "reason">;
  readonly endToEnd: Histogram<"network">;
}

export function createCoreMetrics(registry: Registry): CoreMetrics {
  const registers = [registry];
  return {
    accepted: new Counter({ name: "parley_messages_accepted_total", help: "Messages accepted into the core, by source and target network", labelNames: ["source", "target"], registers }),
    refused: new Counter({ name: "parley_events_refused_total", help: "Inbound events refused, by source network and error code", labelNames: ["source", "code"], registers }),
    delivered: new Counter({ name: "parley_deliveries_total", help: "Successful deliveries by network, job kind and resulting state", labelNames: ["network", "kind", "state"], registers }),
    failed: new Counter({ name: "parley_delivery_failures_total", help: "Deliveries that failed for good, by network, job kind and reason", labelNames: ["network", "kind", "reason"], registers }),
    endToEnd: new Histogram({
      name: "parley_message_latency_seconds",
      help: "Time from a message's acceptance to its hand-off to the recipient's network",
      labelNames: ["network"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    }),
  };
}
