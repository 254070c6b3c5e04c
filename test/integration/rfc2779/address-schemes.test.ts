/**
 * RFC 2779 4.1.8 (WG; for a gateway: new inbox-address schemes plug in). In Parley an address
 * scheme is a network, and a network is an `AdapterFactory` with its own `NetworkAddressing`
 * (src/adapter/contract.ts): the core names none of them. A network nobody registered is refused
 * with an error naming it, at configuration (mappings) and at routing; a network defined only in
 * this test file — no change under src/ — is loaded, routed and delivered to.
 */
import { afterEach, describe, expect, it } from "vitest";
import { asNetworkId, endpoint } from "../../../src/model/address.js";
import { newCanonicalId } from "../../../src/model/ids.js";
import { MessageSchema } from "../../../src/model/message.js";
import { parseMappings } from "../../../src/mappings/load.js";
import type { AdapterFactory } from "../../../src/adapter/contract.js";
import { testDoubleAddressing, testDoubleFactory, TestDoublePeer } from "../../support/test-double-adapter.js";
import { startTestGateway, type TestGateway } from "../../support/gateway.js";
import { waitFor } from "../delivery/helpers.js";

const known = (...ids: string[]) => ids.map((id) => ({ id: asNetworkId(id), addressing: testDoubleAddressing(asNetworkId(id)) }));

const yaml = [
  "networks: { alpha: {}, sipnet: {} }",
  "domains:",
  "  alpha.example: { home: alpha }",
  "  pbx.example: { home: sipnet }",
  "",
].join("\n");

let gw: TestGateway | undefined;
afterEach(async () => { await gw?.destroy(); gw = undefined; });

describe("RFC 2779 4.1.8: address schemes plug in", () => {
  it("T-4.1.8 a network no adapter registers is refused with an error naming it; one registered only here is routed and delivered to", async () => {
    // Unknown at configuration: the mappings name a network no adapter provides.
    const unknown = parseMappings(yaml, "mappings.yaml", known("alpha"));
    expect(unknown.ok).toBe(false);
    if (!unknown.ok) expect(unknown.error.problems.map((p) => p.message)).toContain('unknown network "sipnet" (known: alpha)');

    // Registered: the same file loads once a factory for the network is given, and messages flow to it.
    const loaded = parseMappings(yaml, "mappings.yaml", known("alpha", "sipnet"));
    expect(loaded.ok).toBe(true);
    if (!loaded.ok) return;
    const sipPeer = new TestDoublePeer();
    const factories = [testDoubleFactory("alpha"), testDoubleFactory("sipnet", sipPeer)] as unknown as AdapterFactory<unknown>[];
    gw = await startTestGateway({ factories, adapters: { alpha: {}, sipnet: {} }, mappings: loaded.mappings });
    const from = endpoint("alice@alpha.example", "alpha");
    const m = MessageSchema.parse({ id: newCanonicalId(), from, to: endpoint("1234@pbx.example", "sipnet"), authenticatedBy: { method: "network" }, sentAt: new Date().toISOString(), parts: [{ role: "text", body: "ring ring" }] });
    expect((await gw.gateway.accept(from.network, [{ kind: "message", message: m }]))[0]).toEqual({ status: "accepted", messageId: m.id });
    await waitFor(() => sipPeer.messages.some((x) => x.id === m.id), 15_000, "delivery to the plugged-in network");

    // Unknown at routing: an endpoint on a network nobody configured is refused, naming it.
    const stray = MessageSchema.parse({ ...m, id: newCanonicalId(), to: endpoint("bob@pots.example", "pots") });
    const [r] = await gw.gateway.accept(from.network, [{ kind: "message", message: stray }]);
    expect(r).toMatchObject({ status: "refused", error: { code: "PARLEY_ADDRESS_UNKNOWN" } });
    if (r?.status === "refused") expect(r.error.message).toContain('"pots"');
  });
});
