/**
 * Issue 10: Synapse numbers application-service transactions 1, 2, 3… and sends them in order, but
 * one created in the instant its recoverer finishes is stored and never sent (scheduler.py: `send`
 * read the service as down, `retry` found nothing left and marked it up). Its events were lost
 * silently in the chaos run. A pushed id that skips one makes a catch-up due before that
 * transaction is processed (adapters/matrix/transactions.ts), so the skipped events, read back from
 * room history, go first.
 */
import { describe, expect, it } from "vitest";
import { Transactions } from "../../../adapters/matrix/transactions.js";
import type { MatrixDeps } from "../../../adapters/matrix/deps.js";
import { silentLogger } from "../../../src/log/logger.js";
import { testMappings } from "../../support/mappings.js";
import { MemoryStateStore } from "../../support/fake-context.js";

function transactions() {
  const state = new MemoryStateStore();
  const mappings = testMappings({ networks: { matrix: { settings: { serverName: "matrix.example.org" } } }, domains: { "matrix.example.org": { home: "matrix" } } });
  const d = { ctx: { state, mappings: () => mappings, accept: async () => [] }, config: { dedupeTtlSeconds: 3600, maxEventBytes: 65_536 }, log: silentLogger() } as unknown as MatrixDeps;
  const tx = new Transactions(d);
  const order: string[] = [];
  tx.onSkipped = () => { order.push("skipped"); };
  tx.before = async () => { order.push("before"); };
  const push = async (id: string) => { order.push(id); expect((await tx.handle(id, Buffer.from(JSON.stringify({ events: [] })))).status).toBe(200); };
  return { tx, order, push };
}

describe("a skipped Matrix transaction id (issue 10)", () => {
  it("makes a catch-up due before the transaction after the gap, and only then", async () => {
    const { order, push } = transactions();
    for (const id of ["60", "61", "63", "64"]) await push(id);
    expect(order).toEqual(["60", "before", "61", "before", "63", "skipped", "before", "64", "before"]);
  });

  it("a retried id, a restarted homeserver numbering from 1 again, or ids that are not numbers are no gap", async () => {
    const { order, push } = transactions();
    for (const id of ["61", "61", "62", "1", "2", "abc", "5-x"]) await push(id);
    expect(order).not.toContain("skipped");
  });
});
