/**
 * The smallest federation for core tests: two test-double networks, `alpha` (alice) and `beta`
 * (bob), each the home of one domain, with peers that record what they are given.
 */
import type { AdapterFactory } from "../../src/adapter/contract.js";
import { endpoint } from "../../src/model/address.js";
import { newCanonicalId } from "../../src/model/ids.js";
import { MessageSchema, type Message } from "../../src/model/message.js";
import { testDoubleFactory, TestDoublePeer } from "./test-double-adapter.js";
import { testMappings } from "./mappings.js";

export const alice = endpoint("alice@alpha.example", "alpha");
export const bob = endpoint("bob@beta.example", "beta");

export const twoNetworkMappings = testMappings({
  networks: { alpha: {}, beta: {} },
  domains: { "alpha.example": { home: "alpha" }, "beta.example": { home: "beta" } },
});

/** A text message from alice to bob. */
export function aliceToBob(text: string): Message {
  return MessageSchema.parse({ id: newCanonicalId(), from: alice, to: bob, authenticatedBy: { method: "network" }, sentAt: new Date().toISOString(), parts: [{ role: "text", body: text }] });
}

/** Fresh peers and the factories that deliver into them. */
export function twoNetworks() {
  const alphaPeer = new TestDoublePeer();
  const betaPeer = new TestDoublePeer();
  const factories: AdapterFactory<unknown>[] = [testDoubleFactory("alpha", alphaPeer), testDoubleFactory("beta", betaPeer)];
  return { alphaPeer, betaPeer, factories };
}
