/**
 * A delivery worker in its own process, for multi-process tests (fork with `--import tsx`).
 * Config comes as JSON in PARLEY_TEST_WORKER. Its handler records to Redis under
 * `<prefix>:t:` so the test sees every send from every process:
 *   <prefix>:t:recv:<conversation>  RPUSH "<index>|<latencyMs>|<pid>|<atMs>"   — the "send"
 *   <prefix>:t:log                  RPUSH "start|<key>|<pid>", "sent|<key>|<pid>", "done|<key>|<pid>"
 *                                   (when logSteps: tells a crash-window duplicate from a bug)
 * Failures: `failRate` transient failures before the send; a conversation listed in `downable`
 * fails (transient) while the test keeps the key `<prefix>:t:down:<conversation>` (set with a TTL).
 *
 * It exits when its parent goes away (STACK.md: forked workers outlive a crashed parent
 * otherwise): on `disconnect` of the IPC channel, and closes gracefully on SIGTERM.
 */
import { Redis } from "ioredis";
import { DeliveryError } from "../../src/adapter/contract.js";
import { createDeliveryService } from "../../src/delivery/index.js";
import type { DeliveryJob } from "../../src/delivery/types.js";
import { asNetworkId } from "../../src/model/address.js";

export interface WorkerProcessConfig {
  readonly redisUrl: string;
  /** Redis Cluster seeds: the delivery service runs on the cluster; recording stays on `redisUrl`. */
  readonly cluster?: readonly string[];
  readonly prefix: string;
  readonly networks: readonly string[];
  readonly concurrency?: number;
  readonly failRate?: number;
  /** Conversations that fail (transient) while the Redis key `<prefix>:t:down:<conversation>` exists. */
  readonly downable?: readonly string[];
  readonly logSteps?: boolean;
  /** Conversations whose deliveries never finish (to leave a job active when the process is killed). */
  readonly hang?: readonly string[];
  readonly service?: Record<string, unknown>;
}

export interface TestPayload { readonly i: number; readonly conv: string; readonly t0: number }

async function main(): Promise<void> {
  const cfg = JSON.parse(process.env.PARLEY_TEST_WORKER ?? "{}") as WorkerProcessConfig;
  const rec = new Redis(cfg.redisUrl, { maxRetriesPerRequest: null });
  const base = `${cfg.prefix}:t`;
  const pid = process.pid;
  const svc = await createDeliveryService({
    networks: cfg.networks.map(asNetworkId), prefix: cfg.prefix, redisUrl: cfg.redisUrl, cluster: cfg.cluster,
    concurrency: cfg.concurrency ?? 16, ...cfg.service,
  });
  await svc.startWorkers({
    async deliver(job: DeliveryJob) {
      const p = job.payload as TestPayload;
      if (cfg.hang?.includes(p.conv)) {
        await rec.rpush(`${base}:hanging`, job.key);
        await new Promise(() => {});
      }
      if (cfg.downable?.includes(p.conv) && (await rec.exists(`${base}:down:${p.conv}`)) === 1) {
        throw new DeliveryError("transient", "unavailable", "recipient down");
      }
      if (cfg.failRate && Math.random() < cfg.failRate) throw new DeliveryError("transient", "timeout", "injected");
      if (cfg.logSteps) await rec.rpush(`${base}:log`, `start|${job.key}|${pid}`);
      const now = Date.now();
      await rec.rpush(`${base}:recv:${p.conv}`, `${p.i}|${now - p.t0}|${pid}|${now}`);
      if (cfg.logSteps) await rec.rpush(`${base}:log`, `sent|${job.key}|${pid}`, `done|${job.key}|${pid}`);
    },
    async onFinalFailure(job: DeliveryJob) {
      await rec.rpush(`${base}:final`, job.key);
    },
  });
  let closing = false;
  const shutdown = async (code: number) => {
    if (closing) return;
    closing = true;
    await svc.close();
    rec.disconnect();
    process.exit(code);
  };
  process.on("disconnect", () => { process.exit(0); });
  process.on("SIGTERM", () => { void shutdown(0); });
  process.send?.({ ready: true, pid });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
