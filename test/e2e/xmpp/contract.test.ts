/** The shared adapter contract suite, run against the real Prosody with a real @xmpp/client user. */
import { randomUUID } from "node:crypto";
import { adapterContractSuite, type InboundAnswer } from "../../contract/adapter-contract.js";
import type { MessageEvent } from "../../../src/model/events.js";
import { endpoint } from "../../../src/model/address.js";
import { xmppAdapter } from "../../../adapters/xmpp/index.js";
import { connectUser, prosody, startAdapter, xml } from "./support.js";
import { TcpProxy } from "../../harness/tcp-proxy.js";
import { until } from "../../support/until.js";

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
    async provokeFailure() {
      const cut = link.cut();
      await until("the component link down", () => (adapter.health().ready ? undefined : true));
      return {
        async restore() {
          await cut.restore();
          await until("the component link up again", () => (adapter.health().ready ? true : undefined));
        },
      };
    },
    peerFailures: {
      classes: ["transient"],
      why: "on a live component link the XMPP server takes every stanza; it refuses later, with a bounce (RFC 6120 §8.3), which the adapter reports as a failed delivery status",
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
