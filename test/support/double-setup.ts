/**
 * A contract-suite setup for an in-memory network (the test double, the broken double, a toy
 * adapter): the "peer" is the factory's `peer` record, the local user's client is the adapter's
 * own `receive`. Every hook of the suite is offered, so no check is skipped.
 */
import type { ContractSetup } from "../contract/setup.js";
import type { Adapter, AdapterFactory } from "../../src/adapter/contract.js";
import { endpoint } from "../../src/model/address.js";
import { newCanonicalId } from "../../src/model/ids.js";
import { MessageSchema } from "../../src/model/message.js";
import { FakeContext } from "./fake-context.js";
import { testMappings } from "./mappings.js";
import type { InboundAnswer, TestDoubleAdapter, TestDoublePeer } from "./test-double-adapter.js";

export async function doubleSetup<C>(factory: AdapterFactory<C> & { readonly peer: TestDoublePeer }, config: unknown = {}): Promise<ContractSetup> {
  const home = factory.id;
  const mappings = testMappings({
    networks: { [home]: {}, beta: {} },
    domains: { [`${home}.example`]: { home }, "beta.example": { home: "beta" } },
  });
  const ctx = new FakeContext({ network: home, mappings });
  const parsed = factory.configSchema.parse(config);
  const adapter = factory.create(parsed) as Adapter & Pick<TestDoubleAdapter, "receive">;
  await adapter.start(ctx);
  const localUser = endpoint(`ann@${home}.example`, home);
  const foreignUser = endpoint("bo@beta.example", "beta");
  const peer = factory.peer;
  const texts = (list: readonly { parts: readonly { role: string; body?: string }[] }[]) => list.flatMap((m) => m.parts.map((p) => p.body ?? ""));
  const send = (text: string): Promise<InboundAnswer> => adapter.receive(MessageSchema.parse({
    id: newCanonicalId(), from: localUser, to: foreignUser, authenticatedBy: { method: "network" },
    sentAt: new Date().toISOString(), parts: [{ role: "text", body: text }],
  }));
  return {
    factory, adapter, config: parsed, ctx, mappings, localUser, foreignUser,
    async expectReceived(text) {
      if (!texts(peer.messages).includes(text)) throw new Error(`not received: ${text}`);
    },
    async sendFromLocal(text) { await send(text); },
    sendAndObserve: send,
    async expectPresenceSeen(basic) {
      const seen = peer.presences.at(-1);
      if (!seen || seen.presence.tuples[0]?.basic !== basic) throw new Error("presence not seen");
    },
    async expectFailureSeen(text) {
      if (!peer.statuses.some((s) => s.text?.includes(text))) throw new Error(`no failure report mentioning ${text}`);
    },
    async provokeFailure(failureClass) {
      peer.failWith = failureClass;
      return { async restore() { peer.failWith = undefined; } };
    },
    async teardown() { await adapter.stop(); },
  };
}
