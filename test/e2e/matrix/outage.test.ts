/**
 * Synapse stopped for 30 s mid-conversation (issue 4, Done when): every message accepted while
 * it is down arrives after it returns, in order, none twice; and Matrix → Parley works again
 * after the restart (Synapse on SQLite may restart its transaction ids: synapse#14556).
 * This file runs its own Synapse, since it stops it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { matrixAdapter, writeRegistration } from "../../../adapters/matrix/index.js";
import { toNative } from "../../../adapters/matrix/address.js";
import { asNetworkId, endpoint, type Endpoint } from "../../../src/model/address.js";
import { newCanonicalId } from "../../../src/model/ids.js";
import { MessageSchema, plainText, type Message } from "../../../src/model/message.js";
import { testDoubleFactory, TestDoublePeer } from "../../support/test-double-adapter.js";
import { startTestGateway, type TestGateway } from "../../support/gateway.js";
import { testMappings } from "../../support/mappings.js";
import { startUser, uniqueName, type TestMatrixUser } from "../../harness/synapse/clients.js";
import { freePort, startSynapse, type SynapseInstance } from "../../harness/synapse/synapse.js";

const OUTAGE_MS = 30_000;
const serverName = "matrix.example.org";
const mappings = testMappings({
  networks: { xmpp: {}, matrix: { settings: { serverName, puppetPrefix: "_out_", botLocalpart: "outbot" } } },
  domains: { [serverName]: { home: "matrix" }, "chat.example.org": { home: "xmpp" } },
});
const bob = endpoint("bob@chat.example.org", "xmpp");
const puppet = toNative(bob, mappings);
const xmppPeer = new TestDoublePeer();
let synapse: SynapseInstance;
let gw: TestGateway;
let alice: TestMatrixUser;
let aliceEp: Endpoint;

function fromBob(text: string): Message {
  return MessageSchema.parse({ id: newCanonicalId(), from: bob, to: aliceEp, authenticatedBy: { method: "network" }, sentAt: new Date().toISOString(), parts: [{ role: "text", body: text }] });
}

beforeAll(async () => {
  const port = await freePort();
  const reg = writeRegistration({ id: "parley-outage", url: `http://127.0.0.1:${port}`, mappings });
  synapse = await startSynapse({ serverName, appserviceRegistrations: [reg.yaml] });
  gw = await startTestGateway({
    factories: [matrixAdapter, testDoubleFactory("xmpp", xmppPeer)],
    adapters: {
      matrix: { homeserverUrl: synapse.baseUrl, appserviceId: "parley-outage", asToken: reg.asToken, hsToken: reg.hsToken, listen: { host: "127.0.0.1", port }, requestTimeoutMs: 3_000 },
      xmpp: {},
    },
    mappings,
    // Enough retries to outlast the outage: 300 ms doubling to a 2 s cap for 60 attempts.
    delivery: { attempts: 60, backoffBaseMs: 300, backoffCapMs: 2_000 },
  });
  alice = await startUser(synapse.baseUrl, synapse.registrationSharedSecret, uniqueName("olga"));
  aliceEp = endpoint(`${alice.userId.slice(1, alice.userId.indexOf(":"))}@${serverName}`, "matrix");
}, 120_000);

afterAll(async () => {
  alice?.stop();
  await gw?.destroy();
  await synapse?.stop({ cleanup: true });
});

describe("Synapse outage", () => {
  it("T-5.4.2 T-5.4.1 Synapse stopped for 30 s: every accepted message arrives after it returns, in order, none twice", async () => {
    await gw.gateway.accept(bob.network, [{ kind: "message", message: fromBob("before 0") }]);
    const first = await alice.waitForMessage("before 0", puppet);
    await alice.waitForEvent((e) => e.getRoomId() === first.getRoomId() && e.getStateKey() === alice.userId && e.getContent().membership === "join");
    await alice.say(first.getRoomId()!, { msgtype: "m.text", body: "matrix before" });
    await expect.poll(() => xmppPeer.messages.some((m) => plainText(m) === "matrix before"), { timeout: 20_000 }).toBe(true);

    await synapse.stop();
    const stoppedAt = Date.now();
    const texts = Array.from({ length: 10 }, (_, i) => `during ${i}`);
    for (const t of texts) {
      const [r] = await gw.gateway.accept(bob.network, [{ kind: "message", message: fromBob(t) }]);
      expect(r?.status).toBe("accepted");
    }
    const matrixLink = () => gw.gateway.adapter(asNetworkId("matrix"))!.health();
    await expect.poll(() => matrixLink().detail, { timeout: 20_000 }).toContain("homeserver unreachable");
    expect(matrixLink().ready).toBe(true); // ingress still listens; only delivery waits
    // The outage itself is the scenario: Synapse stays down for 30 s while Parley retries.
    await new Promise((r) => setTimeout(r, OUTAGE_MS - (Date.now() - stoppedAt)));
    await synapse.restart();
    const restartedAt = Date.now();

    await alice.waitForMessage("during 9", puppet, 60_000);
    console.log(`measured: all 10 messages queued during a 30 s outage arrived ${Date.now() - restartedAt} ms after Synapse returned`);
    expect(matrixLink().detail).toContain("homeserver answering");
    const seen = alice.events.filter((e) => e.getSender() === puppet && String(e.getContent().body ?? "").startsWith("during ")).map((e) => String(e.getContent().body));
    expect(seen).toEqual(texts);

    // Matrix → Parley after the restart: Synapse may reuse txn ids; new events must still arrive.
    await alice.say(first.getRoomId()!, { msgtype: "m.text", body: "matrix after" });
    await expect.poll(() => xmppPeer.messages.some((m) => plainText(m) === "matrix after"), { timeout: 30_000 }).toBe(true);
    expect(xmppPeer.messages.filter((m) => plainText(m) === "matrix before")).toHaveLength(1);
  }, 150_000);
});
