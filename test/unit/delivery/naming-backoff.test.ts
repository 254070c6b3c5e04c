import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { backoffDelay, retryBudgetMs } from "../../../src/delivery/backoff.js";
import { jobIdForKey, keyForJobId, queueName, queueLabel, partitionOf } from "../../../src/delivery/names.js";
import { asNetworkId } from "../../../src/model/address.js";

describe("job ids and queue names (DESIGN §3 idempotent delivery, RFC 2779 2.2.3)", () => {
  it("T-5.4.2 job ids are valid BullMQ custom ids and reversible, so distinct keys never share a job", () => {
    fc.assert(fc.property(fc.string({ minLength: 1, maxLength: 200 }), (key) => {
      const id = jobIdForKey(key);
      expect(id.includes(":")).toBe(false);
      expect(`${parseInt(id, 10)}`).not.toBe(id);
      expect(keyForJobId(id)).toBe(key);
    }), { numRuns: 2000 });
    expect(jobIdForKey("a:b")).not.toBe(jobIdForKey("a%3Ab"));
    expect(jobIdForKey("123")).toBe("k_123");
    expect(() => jobIdForKey("")).toThrow();
  });

  it("T-2.2.3 a fixed set of partitions per (kind, network), never a queue per domain; each name is its cluster hash tag", () => {
    expect(queueName("message", asNetworkId("xmpp"))).toBe("{message-xmpp}");
    expect(queueName("presence", asNetworkId("matrix"), 3)).toBe("{presence-matrix#3}");
    expect(queueLabel("{presence-matrix#3}")).toBe("presence-matrix");
    expect(queueLabel("{message-xmpp}")).toBe("message-xmpp");
  });

  it("a conversation always maps to the same partition, and conversations spread over all of them", () => {
    expect(partitionOf("alice|bob", 1)).toBe(0);
    expect(partitionOf("alice|bob", 8)).toBe(partitionOf("alice|bob", 8));
    const used = new Set([...Array(200).keys()].map((i) => partitionOf(`conv${i}`, 8)));
    expect(used.size).toBe(8);
  });
});

describe("retry backoff (DESIGN §3 transient: retry with backoff)", () => {
  const policy = { attempts: 12, baseMs: 1000, capMs: 60_000 };
  it("grows exponentially with equal jitter, within [half, full] of the capped step", () => {
    expect(backoffDelay(1, policy, () => 0)).toBe(500);
    expect(backoffDelay(1, policy, () => 1)).toBe(1000);
    expect(backoffDelay(3, policy, () => 1)).toBe(4000);
    expect(backoffDelay(30, policy, () => 1)).toBe(60_000);
    expect(backoffDelay(30, policy, () => 0)).toBe(30_000);
    fc.assert(fc.property(fc.integer({ min: 1, max: 100 }), fc.double({ min: 0, max: 1, noNaN: true }), (n, r) => {
      const d = backoffDelay(n, policy, () => r);
      const step = Math.min(policy.capMs, policy.baseMs * 2 ** (n - 1));
      return d >= step / 2 - 1 && d <= step + 1;
    }));
  });

  it("the retry budget is the sum of the capped steps between attempts", () => {
    expect(retryBudgetMs({ attempts: 4, baseMs: 100, capMs: 250 })).toBe(100 + 200 + 250);
    expect(retryBudgetMs({ attempts: 1, baseMs: 100, capMs: 250 })).toBe(0);
  });
});
