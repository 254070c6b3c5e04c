/** The shared adapter contract suite, run against the real Prosody with a real @xmpp/client user. */
import { adapterContractSuite } from "../../contract/adapter-contract.js";
import { endpoint } from "../../../src/model/address.js";
import { xmppAdapter } from "../../../adapters/xmpp/index.js";
import { connectUser, prosody, startAdapter, xml } from "./support.js";

adapterContractSuite("xmpp (Prosody)", async () => {
  const c = prosody();
  const { adapter, ctx, mappings } = await startAdapter();
  const alice = await connectUser("alice", { resource: "contract" });
  const localUser = endpoint(`alice@${c.userDomain}`, "xmpp");
  const foreignUser = endpoint("bob@matrix.test", "matrix");
  return {
    factory: xmppAdapter, adapter, ctx, mappings, localUser, foreignUser,
    async expectReceived(text) {
      await alice.inbox.next((s) => s.is("message") && s.attrs.from === "bob@matrix.test" && s.getChildText("body") === text, 10_000, `message "${text}"`);
    },
    async sendFromLocal(text) {
      await alice.send(xml("message", { type: "chat", to: "bob@matrix.test", id: `c-${Date.now()}` }, xml("body", {}, text)));
    },
    async expectPresenceSeen(basic) {
      await alice.inbox.next((s) => s.is("presence") && (s.attrs.from ?? "").startsWith("bob@matrix.test/")
        && (basic === "open" ? s.attrs.type === undefined : s.attrs.type === "unavailable"), 10_000, `presence ${basic}`);
    },
    async teardown() {
      await alice.stop();
      await adapter.stop();
    },
  };
});
