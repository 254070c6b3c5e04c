/**
 * The last hour of each delivery queue for the console's overview charts (issue 17): once a
 * minute this process reads its own delivery counters from the metrics registry (jobs completed,
 * jobs failed for good) and the queue depths (shared by every process, from Redis), and keeps the
 * last 60 samples in memory. Counters are this process's; Prometheus and the Grafana dashboard
 * (docker/) have the whole deployment's history.
 */
import type { Registry } from "prom-client";

export interface QueueSeries {
  /** Jobs completed per interval, oldest first. */
  readonly delivered: readonly number[];
  /** Jobs failed for good per interval. */
  readonly failed: readonly number[];
  /** Jobs waiting, delayed or active at each sample. */
  readonly depth: readonly number[];
}

type Counts = Record<string, Record<string, number>>;

interface Sample {
  readonly completed: Map<string, number>;
  readonly failed: Map<string, number>;
  readonly depth: Map<string, number>;
}

export const SAMPLES_KEPT = 60;

async function counterByQueue(registry: Registry, name: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const metric = registry.getSingleMetric(name);
  if (!metric) return out;
  for (const v of (await metric.get()).values) {
    const q = String(v.labels.queue ?? "");
    out.set(q, (out.get(q) ?? 0) + v.value);
  }
  return out;
}

export class QueueSampler {
  private readonly samples: Sample[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly registry: Registry, private readonly counts: () => Promise<Counts>, private readonly intervalMs = 60_000) {}

  start(): void {
    void this.sample();
    this.timer = setInterval(() => void this.sample(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  async sample(): Promise<void> {
    try {
      const [completed, failed, counts] = await Promise.all([
        counterByQueue(this.registry, "parley_delivery_jobs_completed_total"),
        counterByQueue(this.registry, "parley_delivery_jobs_failed_total"),
        this.counts(),
      ]);
      const depth = new Map(Object.entries(counts).map(([q, s]) => [q, (s.waiting ?? 0) + (s.delayed ?? 0) + (s.active ?? 0) + (s.prioritized ?? 0)]));
      this.samples.push({ completed, failed, depth });
      if (this.samples.length > SAMPLES_KEPT + 1) this.samples.shift();
    } catch {
      // Redis down: this minute has no sample; the overview says the link state anyway.
    }
  }

  /** One queue's last hour (at most 60 intervals). */
  series(queue: string): QueueSeries {
    const delivered: number[] = [];
    const failed: number[] = [];
    const depth: number[] = [];
    for (let i = 1; i < this.samples.length; i++) {
      const a = this.samples[i - 1]!;
      const b = this.samples[i]!;
      delivered.push(Math.max(0, (b.completed.get(queue) ?? 0) - (a.completed.get(queue) ?? 0)));
      failed.push(Math.max(0, (b.failed.get(queue) ?? 0) - (a.failed.get(queue) ?? 0)));
      depth.push(b.depth.get(queue) ?? 0);
    }
    return { delivered, failed, depth };
  }
}
