/**
 * RFC 2779 3.1.4: the presence format can be extended without breaking its base fields. A presence
 * carrying a namespace nobody in Parley knows goes through the core — store, aggregation, access
 * projection, fan-out to the watcher's network — with the extension and every base field intact.
 * (Core level: the adapters do not yet map foreign XML/JSON payloads into `extensions`.)
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { asNetworkId } from "../../../src/model/address.js";
import { PresenceHarness, alice, bob } from "../presence/support/harness.js";

let h: PresenceHarness;
beforeEach(() => { h = new PresenceHarness(); });
afterEach(async () => { await h.close(); });

const UNKNOWN_NS = "urn:example:unregistered:mood-ring:0";

describe("RFC 2779 3.1.4: extensible presence", () => {
  it("T-3.1.4 a presence with an unknown namespaced extension reaches an approved watcher with the extension and its base fields unchanged", async () => {
    await h.subscribe(bob, alice);
    const sent = h.presence(alice, "open", { show: "away", note: "lunch", resource: "laptop" });
    sent.extensions = { [UNKNOWN_NS]: { payload: { colour: "teal", nested: { depth: [1, 2, 3] } } } };
    const r = await h.service.publish({ kind: "presence", presence: sent, authenticatedBy: { method: "network", detail: "test" } }, asNetworkId("xmpp"));
    expect(r.status).toBe("accepted");
    await h.drain();
    const pushed = h.seen(bob, alice).at(-1);
    expect(pushed).toBeDefined();
    expect(pushed!.extensions).toEqual(sent.extensions);
    expect(pushed!.tuples).toEqual(sent.tuples);
    expect(pushed!.presentity).toEqual(sent.presentity);
    // The same by a probe (the stored state, not only the push).
    h.clearPeers();
    await h.probe(bob, alice);
    await h.drain();
    const probed = h.seen(bob, alice).at(-1);
    expect(probed!.extensions).toEqual(sent.extensions);
    expect(probed!.tuples).toEqual(sent.tuples);
  });
});
