/**
 * The Matrix adapter inside the real gateway (real Redis, BullMQ, accept pipeline, workers) with
 * the tier's Synapse and real clients; the other network is the test double ("xmpp").
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { matrixAdapter } from "../../../adapters/matrix/index.js";
import { toNative } from "../../../adapters/matrix/address.js";
import { endpoint, type Endpoint } from "../../../src/model/address.js";
import { newCanonicalId } from "../../../src/model/ids.js";
import { MessageSchema, plainText, type Message } from "../../../src/model/message.js";
import { testDoubleFactory, TestDoublePeer } from "../../support/test-double-adapter.js";
import { startTestGateway, type TestGateway } from "../../support/gateway.js";
import { startUser, uniqueName, type TestMatrixUser } from "../../harness/synapse/clients.js";
import { matrixTestMappings } from "./rig.js";
import { until } from "../../support/until.js";

const coords = inject("synapse");
const slot = coords.appservices[4]!;
const mappings = matrixTestMappings(coords, slot);
const bob = endpoint("bob@chat.example.org", "xmpp");
const puppet = toNative(bob, mappings);
const xmppPeer = new TestDoublePeer();
let gw: TestGateway;
let alice: TestMatrixUser;
let aliceEp: Endpoint;
let roomId: string;

function fromBob(text: string, extra: Partial<Message> = {}): Message {
  return MessageSchema.parse({ id: newCanonicalId(), from: bob, to: aliceEp, authenticatedBy: { method: "network" }, sentAt: new Date().toISOString(), parts: [{ role: "text", body: text }], ...extra });
}

const received = (text: string) => () => xmppPeer.messages.find((m) => plainText(m) === text);

beforeAll(async () => {
  gw = await startTestGateway({
    factories: [matrixAdapter, testDoubleFactory("xmpp", xmppPeer)],
    adapters: {
      matrix: { homeserverUrl: coords.baseUrl, appserviceId: slot.id, asToken: slot.asToken, hsToken: slot.hsToken, listen: { host: "127.0.0.1", port: slot.port } },
      xmpp: {},
    },
    mappings,
  });
  alice = await startUser(coords.baseUrl, coords.registrationSharedSecret, uniqueName("gia"));
  aliceEp = endpoint(`${alice.userId.slice(1, alice.userId.indexOf(":"))}@${coords.serverName}`, "matrix");
});

afterAll(async () => {
  alice?.stop();
  await gw?.destroy();
});

describe("Matrix adapter through the gateway", () => {
  let first: Message;

  it("T-2.1.3 T-4.1.1 a message from the other network reaches the Matrix user from the puppet", async () => {
    first = fromBob("hello through the gateway");
    const [r] = await gw.gateway.accept(bob.network, [{ kind: "message", message: first }]);
    expect(r?.status).toBe("accepted");
    const seen = await alice.waitForMessage("hello through the gateway", puppet);
    roomId = seen.getRoomId()!;
    expect(seen.getContent()["org.parley.hops"]).toBe(first.hops - 1);
  });

  it("T-4.1.2 T-5.4.4 the Matrix user's reply reaches the other network with its reply relation", async () => {
    const firstEvent = (await alice.waitForMessage("hello through the gateway", puppet)).getId()!;
    await alice.waitForEvent((e) => e.getRoomId() === roomId && e.getStateKey() === alice.userId && e.getContent().membership === "join");
    await alice.say(roomId, { msgtype: "m.text", body: "hi bob, from matrix", "m.relates_to": { "m.in_reply_to": { event_id: firstEvent } } });
    const m = await until("the reply on xmpp", received("hi bob, from matrix"));
    expect(m.from).toEqual(aliceEp);
    expect(m.to).toEqual(bob);
    expect(m.inReplyTo).toBe(first.id);
  });

  it("T-2.5.2 a transaction of 100 events is accepted in one round well inside the homeserver's timeout, in order, and a replay delivers nothing twice", async () => {
    const events = Array.from({ length: 100 }, (_, i) => ({
      event_id: `$bulk-${Date.now()}-${i}`, type: "m.room.message", room_id: roomId, sender: alice.userId,
      origin_server_ts: Date.now(), content: { msgtype: "m.text", body: `bulk ${i}` },
    }));
    const put = () => fetch(`${slot.url}/_matrix/app/v1/transactions/bulk-${events[0]!.event_id}`, {
      method: "PUT", headers: { authorization: `Bearer ${slot.hsToken}`, "content-type": "application/json" }, body: JSON.stringify({ events }),
    });
    const t0 = performance.now();
    const res = await put();
    const ms = performance.now() - t0;
    console.log(`measured: a 100-event transaction answered 200 in ${ms.toFixed(1)} ms (Synapse waits 60 s)`);
    expect(res.status).toBe(200);
    expect(ms).toBeLessThan(5_000);
    await until("all 100 on xmpp", () => (xmppPeer.messages.filter((m) => plainText(m).startsWith("bulk ")).length === 100 ? true : undefined));
    const order = xmppPeer.messages.filter((m) => plainText(m).startsWith("bulk ")).map((m) => plainText(m));
    expect(order).toEqual(events.map((e) => e.content.body));
    expect((await put()).status).toBe(200);
    // The same events again under a new txn id (Synapse restarted its ids): nothing new is delivered.
    const again = await fetch(`${slot.url}/_matrix/app/v1/transactions/other-${Date.now()}`, {
      method: "PUT", headers: { authorization: `Bearer ${slot.hsToken}`, "content-type": "application/json" }, body: JSON.stringify({ events }),
    });
    expect(again.status).toBe(200);
    const marker = fromBob("after the replays");
    await gw.gateway.accept(bob.network, [{ kind: "message", message: marker }]);
    await alice.waitForMessage("after the replays", puppet);
    expect(xmppPeer.messages.filter((m) => plainText(m).startsWith("bulk "))).toHaveLength(100);
  });

  it("T-5.1.5 T-2.3.2 a subscription request from the other network reaches the Matrix user through the bridge bot, and `approve` completes it in the core", async () => {
    const bot = `@${slot.botLocalpart}:${coords.serverName}`;
    const [r] = await gw.gateway.accept(bob.network, [{ kind: "subscription", request: {
      action: "request", watcher: bob, presentity: aliceEp, actor: bob, authenticatedBy: { method: "network" }, at: new Date().toISOString(),
    } }]);
    expect(r?.status).toBe("accepted");
    const ask = await alice.waitForMessage("bob@chat.example.org (xmpp) asks to see your presence", bot, 30_000);
    await alice.waitForEvent((e) => e.getRoomId() === ask.getRoomId() && e.getStateKey() === alice.userId && e.getContent().membership === "join");
    await alice.say(ask.getRoomId()!, { msgtype: "m.text", body: "approve bob@chat.example.org" });
    const outcome = await until("the approval on xmpp", () => xmppPeer.subscriptions.find((n) => n.notice === "outcome" && n.subscription.state === "approved"));
    expect(outcome.to).toEqual(bob);
    expect(outcome.subscription.presentity).toEqual(aliceEp);
    await alice.waitForMessage("Approved: bob@chat.example.org (xmpp)", bot);
  });

  it("T-5.4.1 a message the other network refuses becomes a notice the Matrix user sees", async () => {
    xmppPeer.failWith = "permanent";
    try {
      await alice.say(roomId, { msgtype: "m.text", body: "this one will fail" });
      const n = await alice.waitForMessage("Not delivered to bob@chat.example.org", puppet, 30_000);
      expect(n.getContent().msgtype).toBe("m.notice");
    } finally {
      xmppPeer.failWith = undefined;
    }
  });
});
