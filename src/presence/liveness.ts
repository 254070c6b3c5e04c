/**
 * Liveness and timers (RFC 2779 3.2.4, 3.2.5; DESIGN §4). A presentity whose network stops
 * vouching for it (no update, no touch) within the liveness timeout goes CLOSED, marked as the
 * gateway's doing; after a crash, every open presentity without a live session goes CLOSED. The
 * same timer hands out throttled fan-outs when they fall due.
 */
import { endpointKey, type Endpoint } from "../model/address.js";
import { endpointFromKey } from "./keys.js";
import { fanoutJob } from "./jobs.js";
import type { PresenceParts } from "./context.js";
import { errorMessage } from "../errors/message.js";

const SWEEP_LIMIT = 500;

export class Liveness {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(private readonly parts: PresenceParts, private readonly afterClose: (who: Endpoint, fanOutNow: boolean) => Promise<void>) {}

  start(): void {
    if (this.timer) return;
    const every = this.parts.options.tickMs ?? 250;
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.tick(this.parts.now())
        .catch((e: unknown) => this.parts.log.warn({ err: errorMessage(e) }, "presence timer round failed"))
        .finally(() => { this.running = undefined; });
    }, every);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  async tick(now: number): Promise<{ fanouts: number; closed: number }> {
    const fanouts = await this.dueFanouts(now);
    const closed = await this.markStale(now);
    return { fanouts, closed };
  }

  /** Enqueue the trailing fan-outs of throttled presentities (the newest state goes out). */
  async dueFanouts(now: number): Promise<number> {
    const due = await this.parts.store.claimDue(now, SWEEP_LIMIT);
    if (due.length === 0) return 0;
    const who = due.map(endpointFromKey);
    try {
      await this.parts.options.delivery.enqueue(who.map((w) => fanoutJob(w)));
    } catch (e) {
      for (const w of who) await this.parts.store.deferFanout(w, now);
      throw e;
    }
    return due.length;
  }

  /**
   * Presentities whose deadline passed go CLOSED, unless their network is heard (or not known) in
   * this process: then their deadline moves on, since the network reports goodbyes itself.
   */
  async markStale(now: number): Promise<number> {
    const linkReady = this.parts.options.linkReady;
    let closed = 0;
    for (;;) {
      const expired = await this.parts.store.expired(now, SWEEP_LIMIT);
      const vouched: Endpoint[] = [];
      for (const key of expired) {
        const who = endpointFromKey(key);
        if (linkReady !== undefined && linkReady(who.network) !== false) vouched.push(who);
        else if (await this.close(who, "liveness-timeout", now)) closed++;
      }
      await this.parts.store.touch(vouched, now);
      if (expired.length < SWEEP_LIMIT) return closed;
    }
  }

  async reconcile(liveSessions: readonly Endpoint[]): Promise<number> {
    const live = new Set(liveSessions.map(endpointKey));
    const now = this.parts.now();
    let closed = 0;
    const stale: string[] = [];
    for await (const page of this.parts.store.openPresentities()) for (const key of page) if (!live.has(key)) stale.push(key);
    for (const key of stale) if (await this.close(endpointFromKey(key), "gateway-restart", now)) closed++;
    this.parts.log.info({ closed, live: live.size }, "presence reconciled after start");
    return closed;
  }

  private async close(who: Endpoint, reason: string, now: number): Promise<boolean> {
    const result = await this.parts.store.closeByGateway(who, reason, now);
    if (result?.status !== "written") return false;
    this.parts.log.info({ presentity: endpointKey(who), reason }, "presence closed by the gateway");
    await this.afterClose(who, result.fanOutNow);
    return true;
  }
}
