/** The contract suite run against the test double, so the suite itself is known to pass and fail. */
import { adapterContractSuite } from "./adapter-contract.js";
import { testDoubleFactory } from "../support/test-double-adapter.js";
import { FakeContext } from "../support/fake-context.js";
import { testMappings } from "../support/mappings.js";
import { endpoint } from "../../src/model/address.js";
import { MessageSchema } from "../../src/model/message.js";
import { newCanonicalId } from "../../src/model/ids.js";

adapterContractSuite("test double", async () => {
  const factory = testDoubleFactory("alpha");
  const mappings = testMappings({
    networks: { alpha: {}, beta: {} },
    domains: { "alpha.example": { home: "alpha" }, "beta.example": { home: "beta" } },
  });
  const ctx = new FakeContext({ network: factory.id, mappings });
  const adapter = factory.create({});
  await adapter.start(ctx);
  const localUser = endpoint("ann@alpha.example", "alpha");
  const foreignUser = endpoint("bo@beta.example", "beta");
  const peer = factory.peer;
  return {
    factory, adapter, ctx, mappings, localUser, foreignUser,
    async expectReceived(text) {
      if (!peer.messages.some((m) => m.parts.some((p) => p.role === "text" && p.body === text))) throw new Error(`not received: ${text}`);
    },
    async sendFromLocal(text) {
      await ctx.accept([{ kind: "message", message: MessageSchema.parse({
        id: newCanonicalId(), from: localUser, to: foreignUser, authenticatedBy: { method: "network" },
        sentAt: new Date().toISOString(), parts: [{ role: "text", body: text }],
      }) }]);
    },
    async expectPresenceSeen(basic) {
      const seen = peer.presences.at(-1);
      if (!seen || seen.presence.tuples[0]?.basic !== basic) throw new Error("presence not seen");
    },
    async teardown() { await adapter.stop(); },
  };
});
