/**
 * Live mapping reload (issue 17): validated first, stored as a version in Redis, swapped in every
 * gateway through pub/sub; a reload during a steady stream of 2,000 messages loses and misroutes
 * none; an invalid text changes nothing and says why; rollback.
 *
 * The two gateways run in this test process but share nothing except Redis (their own
 * connections, subscribers, workers and LiveMappings), as two Parley processes do.
 */
import { afterEach, describe, expect, it } from "vitest";
import { endpoint } from "../../../src/model/address.js";
import { newCanonicalId } from "../../../src/model/ids.js";
import { MessageSchema, type Message } from "../../../src/model/message.js";
import { startTestGateway, testPrefix, type TestGateway } from "../../support/gateway.js";
import { until } from "../../support/until.js";
import { alice, bob, twoNetworkMappings, twoNetworks } from "../../support/two-networks.js";

const V1 = "networks:\n  alpha: {}\n  beta: {}\ndomains:\n  alpha.example: { home: alpha }\n  beta.example: { home: beta }\n";
const V2 = `${V1}  gamma.example: { home: beta }\n`;
const carol = endpoint("carol@gamma.example", "beta");

const message = (to = bob, text = "m"): Message =>
  MessageSchema.parse({ id: newCanonicalId(), from: alice, to, authenticatedBy: { method: "network" }, sentAt: new Date().toISOString(), parts: [{ role: "text", body: text }] });

const gateways: TestGateway[] = [];
afterEach(async () => { for (const g of gateways.splice(0)) await g.destroy(); });

async function twoGateways() {
  const prefix = testPrefix("live");
  const a = twoNetworks();
  const b = twoNetworks();
  const g1 = await startTestGateway({ factories: a.factories, adapters: { alpha: {}, beta: {} }, mappings: twoNetworkMappings, prefix });
  const g2 = await startTestGateway({ factories: b.factories, adapters: { alpha: {}, beta: {} }, mappings: twoNetworkMappings, prefix });
  gateways.push(g2, g1);
  return { g1, g2, delivered: () => [...a.betaPeer.messages, ...b.betaPeer.messages] };
}

describe("live mapping reload", () => {
  it("a reload during a stream of 2,000 messages across two gateways loses and misroutes none; the next message is routed by the new mapping", async () => {
    const { g1, g2, delivered } = await twoGateways();
    const before = message(carol);
    expect((await g1.gateway.accept(alice.network, [{ kind: "message", message: before }]))[0]?.status).toBe("accepted");
    const routedVia = async (id: string) => (await until("trace", () => g1.traces.trace(id)))?.hops.find((h) => h.hop === "routed")?.via;
    expect(await routedVia(before.id)).toBe("open federation");
    const sent: Message[] = [];
    let applied: Promise<unknown> | undefined;
    for (let i = 0; i < 2000; i++) {
      const m = message(bob, `n${i}`);
      sent.push(m);
      const gw = i % 2 === 0 ? g1 : g2;
      const [r] = await gw.gateway.accept(alice.network, [{ kind: "message", message: m }]);
      expect(r?.status).toBe("accepted");
      if (i === 1000) applied = g1.live.apply(V2, "api");
    }
    expect(await applied).toMatchObject({ ok: true });
    const got = await until("all 2,000 delivered", () => { const d = delivered().filter((x) => x.id !== before.id); return d.length >= 2000 ? d : undefined; }, 60_000);
    const ids = got.map((m) => m.id);
    expect(new Set(ids).size).toBe(2000);
    expect(ids.sort()).toEqual(sent.map((m) => m.id).sort());
    expect(got.every((m) => m.to.address === bob.address && m.to.network === "beta")).toBe(true);
    // Routed by a whole mapping, old or new, each listing beta.example: never by a half-swapped or empty one.
    const vias = await Promise.all(sent.map((m) => routedVia(m.id)));
    const misrouted = vias.filter((v) => v !== "listed domain beta.example").length;
    console.log(`live reload: ${sent.length} sent, ${new Set(ids).size} delivered once each, ${misrouted} misrouted`);
    expect(misrouted).toBe(0);
    await until("both gateways on the new version", () => (g1.live.currentVersion === g2.live.currentVersion && g2.live.currentVersion > 0 ? true : undefined));
    const m = message(carol);
    expect((await g2.gateway.accept(alice.network, [{ kind: "message", message: m }]))[0]?.status).toBe("accepted");
    await until("routed by the new mapping", () => delivered().find((x) => x.id === m.id));
    expect(await routedVia(m.id)).toBe("listed domain gamma.example");
  });

  it("an invalid text changes nothing and says why, with file and line; rollback restores an older version everywhere", async () => {
    const { g1, g2 } = await twoGateways();
    const v1 = await g1.live.apply(V1, "api");
    const v2 = await g1.live.apply(V2, "api");
    expect(v1.ok && v2.ok).toBe(true);
    await until("g2 on v2", () => (g2.live.currentVersion === (v2.ok ? v2.version : -1) ? true : undefined));
    const bad = await g2.live.apply(`${V2}  delta.example: { home: nowhere }\n`, "api");
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.problems.join("\n")).toMatch(/domains\.yaml:8: .*delta\.example/);
    expect(g1.live.currentVersion).toBe(v2.ok ? v2.version : -1);
    expect(g1.live.get().domains.has("gamma.example")).toBe(true);
    const back = await g2.live.rollback(v1.ok ? v1.version : -1);
    expect(back.ok).toBe(true);
    await until("g1 rolled back", () => (g1.live.get().domains.has("gamma.example") ? undefined : true));
  });
});
