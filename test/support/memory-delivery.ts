/** An in-memory DeliveryService for unit tests of pure core logic: records what was enqueued. */
import type { DeliveryHandler, DeliveryJobSpec, DeliveryService, FailedJobInfo } from "../../src/delivery/types.js";
import type { NetworkId } from "../../src/model/address.js";
import { ParleyError } from "../../src/errors/parley-error.js";

export class MemoryDelivery implements DeliveryService {
  readonly jobs = new Map<string, DeliveryJobSpec>();
  readonly paused = new Set<NetworkId>();
  down = false;
  handler: DeliveryHandler | undefined;
  async enqueue(specs: readonly DeliveryJobSpec[]) {
    if (this.down) throw new ParleyError("PARLEY_UNAVAILABLE", "memory delivery is down");
    for (const s of specs) if (!this.jobs.has(s.key)) this.jobs.set(s.key, s);
  }
  readonly inactive = new Set<NetworkId>();
  async startWorkers(handler: DeliveryHandler, active: (n: NetworkId) => boolean = () => true) { this.handler = handler; void active; }
  async setLocalActive(n: NetworkId, active: boolean) { if (active) this.inactive.delete(n); else this.inactive.add(n); }
  async pause(n: NetworkId) { this.paused.add(n); }
  async resume(n: NetworkId) { this.paused.delete(n); }
  async counts() { return {}; }
  async listFailed(): Promise<readonly FailedJobInfo[]> { return []; }
  async retryFailed() { return false; }
  async dropFailed() { return false; }
  async close() {}
  ofKind(kind: DeliveryJobSpec["kind"]) { return [...this.jobs.values()].filter((j) => j.kind === kind); }
}
