/** The overview's last-hour series (issue 17): per-minute deltas of the delivery counters, depth as sampled. */
import { Counter, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { QueueSampler, SAMPLES_KEPT } from "../../../src/console/samples.js";

describe("queue sampler", () => {
  it("turns counters into per-interval deltas and keeps at most an hour", async () => {
    const registry = new Registry();
    const done = new Counter({ name: "parley_delivery_jobs_completed_total", help: "h", labelNames: ["queue"], registers: [registry] });
    const failed = new Counter({ name: "parley_delivery_jobs_failed_total", help: "h", labelNames: ["queue"], registers: [registry] });
    let waiting = 0;
    const sampler = new QueueSampler(registry, async () => ({ "message-beta": { waiting, delayed: 1, active: 0, failed: 9 } }));
    await sampler.sample();
    done.inc({ queue: "message-beta" }, 5); failed.inc({ queue: "message-beta" }); waiting = 3;
    await sampler.sample();
    done.inc({ queue: "message-beta" }, 2);
    await sampler.sample();
    expect(sampler.series("message-beta")).toEqual({ delivered: [5, 2], failed: [1, 0], depth: [4, 4] });
    expect(sampler.series("other")).toEqual({ delivered: [0, 0], failed: [0, 0], depth: [0, 0] });
    for (let i = 0; i < 100; i++) await sampler.sample();
    expect(sampler.series("message-beta").delivered).toHaveLength(SAMPLES_KEPT);
  });
});
