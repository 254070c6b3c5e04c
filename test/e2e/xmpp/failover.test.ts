/**
 * Two Parley processes on one Redis (DESIGN §6): one owns the XMPP component link (a lease);
 * `kill -9` of the owner → the other holds the link within 10 s, messages keep flowing, and every
 * message acknowledged before the kill is delivered to the real XMPP client.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { endpoint } from "../../../src/model/address.js";
import { MessageSchema, type Message } from "../../../src/model/message.js";
import { newCanonicalId } from "../../../src/model/ids.js";
import { deleteKeysUnder } from "../../../src/store/index.js";
import { testPrefix } from "../../support/gateway.js";
import { connectUser, prosody, type TestUser } from "./support.js";
import { startProc, type Proc } from "./processes.js";
import { until } from "../../support/until.js";

describe("two Parley processes, one XMPP component link", () => {
  const prefix = testPrefix("xmpp-failover");
  let a: Proc;
  let b: Proc;
  let heidi: TestUser;
  const health = async (p: Proc) => (await p.call({ cmd: "health" })) as { ready: boolean; owner: boolean; detail: string };

  beforeAll(async () => {
    a = await startProc(prefix);
    await until("A owns the link", async () => ((await health(a)).ready ? true : undefined), 15_000);
    b = await startProc(prefix);
    heidi = await connectUser("heidi", { resource: "failover" });
  }, 60_000);
  afterAll(async () => {
    await heidi?.stop();
    for (const p of [a, b]) if (p?.child.exitCode === null && p.child.signalCode === null) await p.call({ cmd: "stop" }).catch(() => p.child.kill("SIGKILL"));
    const redis = new Redis("redis://127.0.0.1:6379");
    try { await deleteKeysUnder(redis, prefix); } finally { redis.disconnect(); }
  });

  const msg = (text: string): Message => MessageSchema.parse({
    id: newCanonicalId(), from: endpoint("dan@matrix.test", "matrix"), to: endpoint(`heidi@${prosody().userDomain}`, "xmpp"),
    authenticatedBy: { method: "network" }, sentAt: new Date().toISOString(), kind: "chat", parts: [{ role: "text", body: text }],
  });

  it("kill -9 of the link owner: the other process takes the link within 10 s; no acknowledged message is lost", async () => {
    expect((await health(a)).owner).toBe(true);
    expect((await health(b)).owner).toBe(false); // standby
    const before = Array.from({ length: 20 }, (_, i) => msg(`before kill ${i}`));
    for (const m of before) {
      const [r] = (await b.call({ cmd: "accept", events: [{ kind: "message", message: m }] })) as Array<{ status: string }>;
      expect(r?.status).toBe("accepted"); // acknowledged: durable in Redis
    }
    const killedAt = Date.now();
    a.child.kill("SIGKILL");
    await until("B holds the link", async () => ((await health(b)).ready ? true : undefined), 10_000);
    const takeoverMs = Date.now() - killedAt;
    console.log(`[figure] XMPP link takeover after kill -9: ${takeoverMs} ms`);
    expect(takeoverMs).toBeLessThan(10_000);
    const after = Array.from({ length: 10 }, (_, i) => msg(`after kill ${i}`));
    for (const m of after) await b.call({ cmd: "accept", events: [{ kind: "message", message: m }] });
    const expected = [...before, ...after].map((m) => m.parts[0]!.role === "text" ? m.parts[0]!.body : "");
    const got = await until("every acknowledged message at the client", () => {
      const bodies = heidi.inbox.seen.filter((s) => s.is("message")).map((s) => s.getChildText("body") ?? "");
      return expected.every((t) => bodies.includes(t)) ? bodies : undefined;
    }, 30_000);
    const dupes = got.length - new Set(got).size;
    console.log(`[figure] delivered ${new Set(got).size}/${expected.length} unique, ${dupes} duplicate(s) from the crash window`);
    // Order per conversation is kept for the messages sent after the takeover.
    const afterOrder = got.filter((t) => t.startsWith("after kill"));
    expect([...new Set(afterOrder)]).toEqual(after.map((m) => (m.parts[0]!.role === "text" ? m.parts[0]!.body : "")));
  }, 60_000);
});
