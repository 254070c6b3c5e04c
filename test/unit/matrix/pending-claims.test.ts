/**
 * Issue 10: a transaction's `pending` event claims (adapters/matrix/transactions.ts) lapse within
 * seconds when the process that took them is killed, and are renewed while it still works on them.
 * With a 120 s claim, a `kill -9` mid-transaction made every homeserver retry of it a 503 "busy"
 * for two minutes (measured in the chaos test: Matrix → XMPP silent for the rest of the run).
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { holdPending, PENDING_TTL_S } from "../../../adapters/matrix/transactions.js";
import { MemoryStateStore } from "../../support/fake-context.js";

/** A state store that honours TTLs on the fake clock (MemoryStateStore ignores them). */
class ExpiringState extends MemoryStateStore {
  readonly until = new Map<string, number>();
  override async set(key: string, value: string, ttlSeconds?: number) {
    await super.set(key, value);
    if (ttlSeconds !== undefined) this.until.set(key, Date.now() + ttlSeconds * 1000);
  }
  override async get(key: string) {
    const u = this.until.get(key);
    if (u !== undefined && u <= Date.now()) { this.values.delete(key); this.until.delete(key); }
    return super.get(key);
  }
}

afterEach(() => { vi.useRealTimers(); });

describe("Matrix transaction claims (issue 10)", () => {
  it("lapse within PENDING_TTL_S of a killed process, and stay while the process works on them", async () => {
    vi.useFakeTimers();
    expect(PENDING_TTL_S).toBeLessThanOrEqual(15);
    const state = new ExpiringState();
    await state.set("ev:$live", "pending", PENDING_TTL_S);
    await state.set("ev:$dead", "pending", PENDING_TTL_S);
    const stop = holdPending(state, ["ev:$live"]); // $dead's process was killed: nobody renews it
    await vi.advanceTimersByTimeAsync(PENDING_TTL_S * 1000 * 3);
    expect(await state.get("ev:$dead")).toBeUndefined(); // the homeserver's retry is processed
    expect(await state.get("ev:$live")).toBe("pending"); // a slow accept is not taken for dead
    await stop();
    await state.set("ev:$live", "done", 3600);
    await vi.advanceTimersByTimeAsync(PENDING_TTL_S * 1000);
    expect(await state.get("ev:$live")).toBe("done"); // nothing writes `pending` after stop
  });
});
