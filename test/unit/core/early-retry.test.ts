import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { EarlyRetry } from "../../../src/core/early-retry.js";
import { silentLogger } from "../../../src/log/logger.js";
import { asNetworkId, type NetworkId } from "../../../src/model/address.js";

const MATRIX = asNetworkId("matrix");
const XMPP = asNetworkId("xmpp");

/** A delivery whose scans finish when the test says, each promoting `promoted` jobs. */
function gatedDelivery(promoted: number) {
  const calls: NetworkId[] = [];
  const finish: Array<() => void> = [];
  return {
    calls,
    finishAll: () => { for (const f of finish.splice(0)) f(); },
    delivery: { retryNow: (n: NetworkId) => { calls.push(n); return new Promise<number>((r) => finish.push(() => r(promoted))); } },
  };
}

describe("EarlyRetry: one scan per burst of 'the peer answers again' (issue 10)", () => {
  it("T-4.2.1 a request during a scan joins it, one within the quiet time after it is dropped, another network scans on its own", async () => {
    const g = gatedDelivery(3);
    const registry = new Registry();
    const early = new EarlyRetry({ registry, log: silentLogger(), quietMs: 60_000, delivery: g.delivery });
    const first = early.request(MATRIX);
    const joined = early.request(MATRIX);
    const other = early.request(XMPP);
    expect(g.calls).toEqual([MATRIX, XMPP]);
    g.finishAll();
    await Promise.all([first, joined, other]);
    await early.request(MATRIX); // within the quiet time
    expect(g.calls).toEqual([MATRIX, XMPP]);
    const metric = await registry.getSingleMetricAsString("parley_delivery_retried_early_total");
    expect(metric).toContain('parley_delivery_retried_early_total{network="matrix"} 3');
    expect(metric).toContain('parley_delivery_retried_early_total{network="xmpp"} 3');
  });

  it("T-4.2.1 after the quiet time a request scans again, and a failed scan is logged, not thrown", async () => {
    const calls: NetworkId[] = [];
    const early = new EarlyRetry({ registry: new Registry(), log: silentLogger(), quietMs: 0, delivery: { retryNow: async (n) => { calls.push(n); throw new Error("redis down"); } } });
    await early.request(MATRIX);
    await early.request(MATRIX);
    expect(calls).toEqual([MATRIX, MATRIX]);
  });
});
