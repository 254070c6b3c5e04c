/** The shared adapter contract suite, run against the real Prosody with a real @xmpp/client user. */
import { randomUUID } from "node:crypto";
import { adapterContractSuite, type InboundAnswer } from "../../contract/adapter-contract.js";
import type { MessageEvent } from "../../../src/model/events.js";
import { endpoint } from "../../../src/model/address.js";
import { xmppAdapter } from "../../../adapters/xmpp/index.js";
import { connectUser, prosody, startAdapter, xml } from "./support.js";
import { TcpProxy } from "../../harness/tcp-proxy.js";
import { until } from "../../support/until.js";
import type { Adapter } from "../../../src/adapter/contract.js";
import { NS_BLOCKING } from "../../support/xmpp-namespaces.js";

/** test/harness/prosody/plugins/mod_harness_throttle.lua */
const NS_THROTTLE = "urn:parley:harness:throttle";

/** The peer unreachable: the component link cut, while alice stays connected. */
async function cutLink(link: TcpProxy, adapter: Adapter) {
  const cut = link.cut();
  await until("the component link down", () => (adapter.health().ready ? undefined : true));
  return {
    async restore() {
      await cut.restore();
      await until("the component link up again", () => (adapter.health().ready ? true : undefined));
    },
  };
}

adapterContractSuite("xmpp (Prosody)", async () => {
  const c = prosody();
  // The component link runs through a proxy: cutting it is the peer unreachable, while alice stays connected.
  const link = await TcpProxy.start(c.host, c.componentPort);
  const { adapter, ctx, mappings, config } = await startAdapter({ config: { host: "127.0.0.1", port: link.port } });
  const alice = await connectUser("alice", { resource: "contract" });
  const localUser = endpoint(`alice@${c.userDomain}`, "xmpp");
  const foreignUser = endpoint("bob@matrix.test", "matrix");
  return {
    factory: xmppAdapter, adapter, ctx, mappings, config, localUser, foreignUser,
    async expectReceived(text) {
      await alice.inbox.next((s) => s.is("message") && s.attrs.from === "bob@matrix.test" && s.getChildText("body") === text, 10_000, `message "${text}"`);
    },
    async sendFromLocal(text) {
      await alice.send(xml("message", { type: "chat", to: "bob@matrix.test", id: `c-${Date.now()}` }, xml("body", {}, text)));
    },
    /** The component's answer: a stanza error of type `wait` is "try later", any other type a refusal (RFC 6120 §8.3.2). */
    async sendAndObserve(text) {
      const id = `c-${randomUUID()}`;
      await alice.send(xml("message", { type: "chat", to: "bob@matrix.test", id }, xml("body", {}, text)));
      const error = alice.inbox.next((st) => st.is("message") && st.attrs.type === "error" && st.attrs.id === id, 10_000, "error")
        .then((st): InboundAnswer => (st.getChild("error")?.attrs.type === "wait" ? "try-later" : "refused"));
      const accepted = ctx.waitForAccepted((e): e is MessageEvent => e.kind === "message" && e.message.parts.some((p) => p.role === "text" && p.body === text))
        .then((): InboundAnswer => "accepted");
      error.catch(() => undefined);
      accepted.catch(() => undefined);
      return Promise.race([error, accepted]);
    },
    /**
     * Transient: the component link cut. Permanent: alice blocks bob (XEP-0191; Prosody's
     * mod_blocklist bounces his messages with cancel/service-unavailable). Rate-limited: alice's
     * inbound budget spent (the harness's mod_harness_throttle bounces with wait/resource-constraint).
     * Prosody takes the stanza on the live link and bounces it: the adapter reports it later.
     */
    async provokeFailure(failureClass) {
      if (failureClass === "transient") return cutLink(link, adapter);
      const [set, unset] = failureClass === "permanent"
        ? [xml("block", { xmlns: NS_BLOCKING }, xml("item", { jid: "bob@matrix.test" })), xml("unblock", { xmlns: NS_BLOCKING }, xml("item", { jid: "bob@matrix.test" }))]
        : [xml("throttle", { xmlns: NS_THROTTLE, messages: "0" }), xml("throttle", { xmlns: NS_THROTTLE })];
      await alice.xmpp.iqCaller.request(xml("iq", { type: "set" }, set));
      return { async restore() { await alice.xmpp.iqCaller.request(xml("iq", { type: "set" }, unset)); } };
    },
    async expectPresenceSeen(basic) {
      await alice.inbox.next((s) => s.is("presence") && (s.attrs.from ?? "").startsWith("bob@matrix.test/")
        && (basic === "open" ? s.attrs.type === undefined : s.attrs.type === "unavailable"), 10_000, `presence ${basic}`);
    },
    async teardown() {
      await alice.stop();
      await adapter.stop();
      await link.close();
    },
  };
});
