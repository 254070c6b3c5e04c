/**
 * An in-memory DeliveryService with the documented key and coalescing semantics (src/delivery/types.ts),
 * for unit tests of pure core logic and presence tests that run without the BullMQ implementation. `drain()` runs every
 * waiting job, including jobs enqueued while draining, through the handler.
 */
import type { DeliveryError } from "../../src/adapter/contract.js";
import type { NetworkId } from "../../src/model/address.js";
import type { DeliveryHandler, DeliveryJob, DeliveryJobSpec, DeliveryService, FailedJobInfo } from "../../src/delivery/types.js";
import { ParleyError } from "../../src/errors/parley-error.js";

export class MemoryDelivery implements DeliveryService {
  /** Every spec ever stored (not the coalesced or duplicate ones). */
  readonly stored: DeliveryJobSpec[] = [];
  /** Every job the handler ran, in order. */
  readonly ran: DeliveryJob[] = [];
  readonly failed: Array<{ job: DeliveryJob; error: unknown }> = [];
  private waiting: DeliveryJobSpec[] = [];
  private readonly waitingKeys = new Set<string>();
  enqueueCalls = 0;
  failNextEnqueue = false;
  /** While true, every enqueue is refused as Redis would be: PARLEY_UNAVAILABLE. */
  down = false;
  private handler: DeliveryHandler | undefined;

  async enqueue(specs: readonly DeliveryJobSpec[]): Promise<void> {
    if (this.down) throw new ParleyError("PARLEY_UNAVAILABLE", "memory delivery is down (test)");
    if (this.failNextEnqueue) {
      this.failNextEnqueue = false;
      throw new Error("enqueue failed (test)");
    }
    this.enqueueCalls++;
    for (const spec of specs) {
      if (this.waitingKeys.has(spec.key)) continue;
      this.waitingKeys.add(spec.key);
      this.waiting.push(spec);
      this.stored.push(spec);
    }
  }

  /** Jobs waiting now, optionally of one kind. */
  pending(kind?: DeliveryJobSpec["kind"]): DeliveryJobSpec[] {
    return this.waiting.filter((s) => kind === undefined || s.kind === kind);
  }

  /** Drop waiting jobs (e.g. to look only at what a later step enqueues). */
  clear(): void {
    this.waiting = [];
    this.waitingKeys.clear();
  }

  async drain(handler: DeliveryHandler | undefined = this.handler): Promise<number> {
    if (!handler) throw new Error("no handler");
    let n = 0;
    while (this.waiting.length > 0) {
      const spec = this.waiting.shift()!;
      this.waitingKeys.delete(spec.key);
      const job: DeliveryJob = { kind: spec.kind, network: spec.network, key: spec.key, conversation: spec.conversation, payload: spec.payload, attempt: 1 };
      this.ran.push(job);
      try {
        await handler.deliver(job);
      } catch (error) {
        this.failed.push({ job, error });
        await handler.onFinalFailure(job, error as DeliveryError);
      }
      n++;
    }
    return n;
  }

  async startWorkers(handler: DeliveryHandler): Promise<void> { this.handler = handler; }
  async setLocalActive(): Promise<void> {}
  async pause(_network: NetworkId): Promise<void> {}
  async resume(_network: NetworkId): Promise<void> {}
  async retryNow(_network: NetworkId): Promise<number> { return 0; }
  async counts(): Promise<Record<string, Record<string, number>>> { return { memory: { waiting: this.waiting.length } }; }
  async listFailed(): Promise<readonly FailedJobInfo[]> { return []; }
  async retryFailed(): Promise<boolean> { return false; }
  async dropFailed(): Promise<boolean> { return false; }
  async stopWorkers(): Promise<void> {}
  async close(): Promise<void> {}
}
