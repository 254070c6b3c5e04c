/**
 * The deployment's process list (issue 14): every running Parley process writes a heartbeat to
 * one Redis hash — its role, host, pid, and per network whether its link is up and whether it
 * takes that network's deliveries — and removes it on a graceful stop. `parley doctor` reads it
 * to check a deployment of several processes as a whole (one ingress holds the XMPP link, some
 * process delivers each network), which no single process's admin API can say.
 *
 *   <prefix>:procs   hash: process id → JSON {@link ProcessReport}
 */
import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import type { Keyspace } from "./keys.js";
import type { RedisClient } from "./redis.js";

export interface ProcessReport {
  readonly id: string;
  readonly role: "all" | "ingress" | "workers";
  readonly host: string;
  readonly pid: number;
  readonly startedAt: number;
  readonly seenAt: number;
  readonly networks: ReadonlyArray<{ readonly network: string; readonly ready: boolean; readonly delivering: boolean }>;
}

/** How often a process reports; a report older than three of these is a process gone. */
export const HEARTBEAT_MS = 5_000;
export const STALE_MS = 3 * HEARTBEAT_MS;

const procsKey = (keys: Keyspace): string => keys.key("procs");

export class ProcessHeartbeat {
  readonly id = `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;
  private readonly startedAt = Date.now();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keyspace,
    private readonly role: ProcessReport["role"],
    private readonly networks: () => ProcessReport["networks"],
    private readonly onError: (e: unknown) => void,
  ) {}

  start(): void {
    const beat = () => { this.beat().catch(this.onError); };
    beat();
    this.timer = setInterval(beat, HEARTBEAT_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.redis.hdel(procsKey(this.keys), this.id).catch(this.onError);
  }

  private async beat(): Promise<void> {
    const r: ProcessReport = { id: this.id, role: this.role, host: hostname(), pid: process.pid, startedAt: this.startedAt, seenAt: Date.now(), networks: this.networks() };
    await this.redis.hset(procsKey(this.keys), this.id, JSON.stringify(r));
  }
}

/** The processes that reported within {@link STALE_MS}, and those that did not (killed, or their host's clock is off). */
export async function processReports(redis: RedisClient, keys: Keyspace, now = Date.now()): Promise<{ live: ProcessReport[]; stale: ProcessReport[] }> {
  const all = await redis.hgetall(procsKey(keys));
  const live: ProcessReport[] = [];
  const stale: ProcessReport[] = [];
  for (const raw of Object.values(all)) {
    let r: ProcessReport | undefined;
    try { r = JSON.parse(raw) as ProcessReport; } catch { r = undefined; }
    if (!r || typeof r.seenAt !== "number" || !Array.isArray(r.networks)) continue;
    (now - r.seenAt <= STALE_MS ? live : stale).push(r);
  }
  const byStart = (a: ProcessReport, b: ProcessReport) => a.startedAt - b.startedAt;
  return { live: live.sort(byStart), stale: stale.sort(byStart) };
}
