/**
 * Per-message trace on real Redis (issue 17): every hop of a message, in order, found by id, by
 * native id and by address; a failure on the first attempt shows as its own hop.
 */
import { afterEach, describe, expect, it } from "vitest";
import { startTestGateway, type TestGateway } from "../../support/gateway.js";
import { until } from "../../support/until.js";
import { alice, aliceToBob, twoNetworkMappings, twoNetworks } from "../../support/two-networks.js";
import { formatLookup } from "../../../src/trace/index.js";
import { traceCommand } from "../../../src/cli/trace.js";

let gw: TestGateway | undefined;
afterEach(async () => { await gw?.destroy(); gw = undefined; });

const kinds = (t: { hops: readonly { hop: string }[] } | undefined) => t?.hops.map((h) => h.hop) ?? [];

describe("message trace", () => {
  it("records accepted, routed, enqueued, the attempt and the outcome, findable by id, native id and address", async () => {
    const { betaPeer, factories } = networks();
    gw = await startTestGateway({ factories, adapters: { alpha: {}, beta: {} }, mappings: twoNetworkMappings, trace: { flushMs: 0 } });
    const m = { ...aliceToBob("traced"), nativeIds: [{ network: alice.network, kind: "message", id: "native-abc-1" }] };
    await gw.gateway.accept(alice.network, [{ kind: "message", message: m }]);
    await until("delivery", () => betaPeer.messages.find((x) => x.id === m.id));
    const t = await until("trace complete", async () => {
      const got = await gw!.traces.trace(m.id);
      return kinds(got).includes("relayed") ? got : undefined;
    });
    expect(kinds(t)).toEqual(["accepted", "routed", "enqueued", "attempt", "relayed"]);
    expect(t.hops[0]).toMatchObject({ network: "alpha", from: m.from.address, to: m.to.address, nativeIds: ["native-abc-1"] });
    expect(t.hops[1]).toMatchObject({ network: "beta", policy: "allowed" });
    expect(t.hops[3]).toMatchObject({ outcome: "relayed", attempt: 1 });
    expect(JSON.stringify(t)).not.toContain("traced"); // no bodies
    expect((await gw.traces.lookup("native-abc-1")).traces[0]?.id).toBe(m.id);
    const byAddress = await gw.traces.lookup(m.to.address, 5);
    expect(byAddress.matched).toBe("address");
    expect(byAddress.traces.map((x) => x.id)).toContain(m.id);
    expect(formatLookup(await gw.traces.lookup(m.id)).join("\n")).toMatch(/accepted[\s\S]*routed[\s\S]*enqueued[\s\S]*attempt[\s\S]*relayed/);
    // `parley trace`, on a connection of its own: it must wait for it before reading.
    const config = gw.config;
    const printed = await traceCommand(["native-abc-1"], async () => ({ config }));
    expect(printed).toMatchObject({ exitCode: 0 });
    expect(printed.lines.join("\n")).toMatch(new RegExp(`message ${m.id}[\\s\\S]*accepted[\\s\\S]*attempt[\\s\\S]*took=[\\s\\S]*relayed`));
    expect(await traceCommand(["nobody@nowhere.example"], async () => ({ config }))).toMatchObject({ exitCode: 1, lines: [expect.stringContaining("no trace")] });
    const down = await traceCommand([m.id], async () => ({ config: { ...config, redis: { ...config.redis, url: "redis://127.0.0.1:1" } } }));
    expect(down).toMatchObject({ exitCode: 1, lines: [expect.stringMatching(/^parley trace: .*Redis/)] });
  });

  it("a failed first attempt is its own hop; a permanent failure ends in failed and the status reported to the sender", async () => {
    const { betaPeer, alphaPeer, factories } = networks();
    betaPeer.failWith = "permanent";
    gw = await startTestGateway({ factories, adapters: { alpha: {}, beta: { failWith: "permanent" } }, mappings: twoNetworkMappings, trace: { flushMs: 0 } });
    const m = aliceToBob("to nobody");
    await gw.gateway.accept(alice.network, [{ kind: "message", message: m }]);
    await until("failed status", () => alphaPeer.statuses.find((s) => s.messageId === m.id));
    const t = await until("trace with report", async () => {
      const got = await gw!.traces.trace(m.id);
      return kinds(got).includes("reported") ? got : undefined;
    });
    expect(kinds(t)).toEqual(["accepted", "routed", "enqueued", "attempt", "failed", "reported"]);
    expect(t.hops[3]).toMatchObject({ outcome: "failed", failureClass: "permanent" });
    expect(t.hops[5]).toMatchObject({ network: "alpha", state: "failed" });
  });

  it("with tracing off nothing is written", async () => {
    const { betaPeer, factories } = networks();
    gw = await startTestGateway({ factories, adapters: { alpha: {}, beta: {} }, mappings: twoNetworkMappings, trace: { enabled: false } });
    const m = aliceToBob("untraced");
    await gw.gateway.accept(alice.network, [{ kind: "message", message: m }]);
    await until("delivery", () => betaPeer.messages.find((x) => x.id === m.id));
    expect(await gw.traces.trace(m.id)).toBeUndefined();
  });
});

const networks = twoNetworks;
