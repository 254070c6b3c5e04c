/**
 * Issue 14, shared rate limits: the per-sender and per-domain limits are counted in Redis, so one
 * sender sending through two ingress processes meets one limit, answered in its network's own
 * "slow down".
 *
 * - Two real `parley start --role ingress` processes (one Redis prefix, their SMTP listeners on
 *   two ports): one envelope sender alternating between them gets `451 4.7.1` at MAIL FROM once
 *   the deployment's count is reached, not each process's.
 * - Two gateways in this process on one prefix (the core's limits for every network): a sender
 *   alternating between them is refused PARLEY_RATE_LIMITED with `retryAfterMs` past the shared
 *   per-sender limit; the per-domain limit counts all senders of a domain alike.
 * - One sending to several recipients (an email to five: five canonical messages sharing a
 *   `submission`) counts once for the sender and once for its domain; messages without one count
 *   each (the email version through a real SMTP session: test/e2e/cross/rate-limits.test.ts).
 */
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import type { AcceptResult } from "../../../src/adapter/contract.js";
import { endpoint } from "../../../src/model/address.js";
import { RedisRateLimiter } from "../../../src/limits/rate-limiter.js";
import { deleteKeysUnder, keyspace } from "../../../src/store/index.js";
import { smtpSend } from "../../harness/mta/smtp-client.js";
import { startTestGateway, testPrefix, type TestGateway } from "../../support/gateway.js";
import { freePort } from "../../support/ports.js";
import { startParley, writeParleyConfig, type ParleyProcess } from "../../support/parley-processes.js";
import { alice, aliceToBob, twoNetworkMappings, twoNetworks } from "../../support/two-networks.js";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function dropPrefix(prefix: string): Promise<void> {
  const redis = new Redis("redis://127.0.0.1:6379");
  try { await deleteKeysUnder(redis, prefix); } finally { redis.disconnect(); }
}

const refusal = (r: AcceptResult | undefined) => (r?.status === "refused" ? { code: r.error.code, ...r.error.details } : r?.status);

describe("the rate limiter (GCRA in Redis)", () => {
  it("passes a burst, then refuses with the wait until the next slot; two clients share the count", async () => {
    const prefix = testPrefix("rl");
    const [a, b] = [new Redis("redis://127.0.0.1:6379"), new Redis("redis://127.0.0.1:6379")];
    cleanups.push(async () => { a.disconnect(); b.disconnect(); await dropPrefix(prefix); });
    const [la, lb] = [new RedisRateLimiter(a, keyspace(prefix)), new RedisRateLimiter(b, keyspace(prefix))];
    const rule = { perMinute: 6, burst: 3 }; // one slot each 10 s
    const verdicts = [await la.take("x", "s", "k", rule), await lb.take("x", "s", "k", rule), await la.take("x", "s", "k", rule), await lb.take("x", "s", "k", rule)];
    expect(verdicts.map((v) => v.allowed)).toEqual([true, true, true, false]);
    expect(verdicts[3]!.retryAfterMs).toBeGreaterThan(9_000);
    expect(verdicts[3]!.retryAfterMs).toBeLessThanOrEqual(10_000);
    expect((await la.take("x", "s", "other", rule)).allowed).toBe(true); // another key has its own bucket
    expect((await la.take("x", "s", "k", { perMinute: 0 })).allowed).toBe(true); // 0: no limit
  });
});

describe("the core's limits across two gateways on one Redis (issue 14)", () => {
  async function twoIngress(limits: { perSenderPerMinute: number; perDomainPerMinute: number }): Promise<[TestGateway, TestGateway]> {
    const prefix = testPrefix("limits");
    const start = () => startTestGateway({ ...twoNetworks(), adapters: { alpha: {}, beta: {} }, mappings: twoNetworkMappings, prefix, role: "ingress", limits: { enabled: true, ...limits } });
    const one = await start();
    cleanups.push(() => one.destroy());
    const two = await start();
    cleanups.push(() => two.stop());
    return [one, two];
  }

  it("one sender through both is refused PARLEY_RATE_LIMITED with retryAfterMs past the shared per-sender limit", async () => {
    const gws = await twoIngress({ perSenderPerMinute: 4, perDomainPerMinute: 0 });
    const results: AcceptResult[] = [];
    for (let i = 0; i < 6; i++) results.push(...(await gws[i % 2]!.gateway.accept(alice.network, [{ kind: "message", message: aliceToBob(`m${i}`) }])));
    expect(results.slice(0, 4).map((r) => r.status)).toEqual(["accepted", "accepted", "accepted", "accepted"]);
    for (const r of results.slice(4)) {
      expect(refusal(r)).toMatchObject({ code: "PARLEY_RATE_LIMITED", scope: "sender" });
      expect(r.status === "refused" && (r.error.details.retryAfterMs as number)).toBeGreaterThan(10_000); // one slot each 15 s
    }
  });

  it("the per-domain limit counts every sender of the domain, through both", async () => {
    const gws = await twoIngress({ perSenderPerMinute: 0, perDomainPerMinute: 3 });
    const results: AcceptResult[] = [];
    for (const [i, name] of ["alice", "carol", "dave", "erin"].entries()) {
      const message = { ...aliceToBob(name), from: endpoint(`${name}@alpha.example`, "alpha") };
      results.push(...(await gws[i % 2]!.gateway.accept(alice.network, [{ kind: "message", message }])));
    }
    expect(results.slice(0, 3).map((r) => r.status)).toEqual(["accepted", "accepted", "accepted"]);
    expect(refusal(results[3])).toMatchObject({ code: "PARLEY_RATE_LIMITED", scope: "domain" });
  });

  it("one sending to five recipients counts as one message, for the sender and for its domain", async () => {
    const toFive = (submission: string, text: string) => ["bob", "carol", "dave", "erin", "frank"].map((name) => ({
      kind: "message" as const, submission, message: { ...aliceToBob(text), to: endpoint(`${name}@beta.example`, "beta") },
    }));
    for (const limits of [{ perSenderPerMinute: 2, perDomainPerMinute: 0 }, { perSenderPerMinute: 0, perDomainPerMinute: 2 }]) {
      const [gw] = await twoIngress(limits);
      const first = await gw.gateway.accept(alice.network, toFive("s1", "first"));
      const second = await gw.gateway.accept(alice.network, toFive("s2", "second"));
      expect([...first, ...second].map((r) => r.status), JSON.stringify(limits)).toEqual(Array(10).fill("accepted"));
      const third = await gw.gateway.accept(alice.network, toFive("s3", "third"));
      for (const r of third) expect(refusal(r)).toMatchObject({ code: "PARLEY_RATE_LIMITED", scope: limits.perSenderPerMinute > 0 ? "sender" : "domain" });
      // without a submission, each copy is a message of its own
      const plain = await gw.gateway.accept(alice.network, [{ kind: "message", message: aliceToBob("plain") }]);
      expect(refusal(plain[0])).toMatchObject({ code: "PARLEY_RATE_LIMITED" });
    }
  });

  it("copies without a shared submission count each: two recipients take two of the sender's count", async () => {
    const [gw] = await twoIngress({ perSenderPerMinute: 3, perDomainPerMinute: 0 });
    const two = ["bob", "carol"].map((name) => ({ kind: "message" as const, message: { ...aliceToBob("each"), to: endpoint(`${name}@beta.example`, "beta") } }));
    expect((await gw.gateway.accept(alice.network, two)).map((r) => r.status)).toEqual(["accepted", "accepted"]);
    const more = await gw.gateway.accept(alice.network, two);
    expect(more.map((r) => r.status)).toEqual(["accepted", "refused"]);
  });
});

describe("SMTP's own limits across two ingress processes (issue 14)", () => {
  it("one envelope sender alternating between the two listeners gets 451 4.7.1 at the deployment's count", async () => {
    const prefix = testPrefix("smtp-rl");
    const ports = [await freePort(), await freePort()];
    const procs: ParleyProcess[] = [];
    for (const port of ports) {
      const cfg = writeParleyConfig([
        `redis: { url: "redis://127.0.0.1:6379", keyPrefix: "${prefix}" }`,
        "admin: { enabled: false }",
        "adapters:",
        `  email: { hostname: parley.test, listen: { host: 127.0.0.1, port: ${port} }, rateLimits: { perSenderPerMinute: 3, perIpPerMinute: 1000 } }`,
      ]);
      cleanups.push(() => cfg.remove());
      const p = await startParley(cfg.config, "ingress");
      procs.push(p);
      cleanups.push(() => p.stop());
    }
    cleanups.push(() => dropPrefix(prefix));
    const mailCodes: number[] = [];
    // RCPT to no bridged user is refused (550), so nothing is stored: only MAIL FROM is counted.
    for (let i = 0; i < 5; i++) mailCodes.push((await smtpSend(ports[i % 2]!, { from: "carol@example.org", to: ["nobody@parley.test"] }, "Subject: x\r\n\r\nx\r\n")).mail);
    expect(mailCodes).toEqual([250, 250, 250, 451, 451]);
    // another sender is not held back by carol's count
    expect((await smtpSend(ports[1]!, { from: "dave@example.org", to: ["nobody@parley.test"] }, "Subject: x\r\n\r\nx\r\n")).mail).toBe(250);
  });
});
