/**
 * Issue 10, the Synapse row of the chaos test: events Synapse accepted from its users and never
 * pushed to the application service are read back from the room's history (adapters/matrix/catch-up.ts)
 * and delivered exactly once.
 *
 * Synapse's own lost window (it advances its application-service stream position and keeps the
 * transaction in memory; stopped in that instant, the events are never pushed) is made
 * deterministic here: while Parley is down alice sends; Synapse is stopped and made to forget
 * what it would push (its stored application-service transactions deleted, its stream position
 * moved past the events), then started again, then Parley. Without the catch-up those messages
 * never arrive and nobody is told. This file runs its own Synapse, since it stops it.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { matrixAdapter, writeRegistration } from "../../../adapters/matrix/index.js";
import { toNative } from "../../../adapters/matrix/address.js";
import { endpoint, type Endpoint } from "../../../src/model/address.js";
import { newCanonicalId } from "../../../src/model/ids.js";
import { MessageSchema, plainText } from "../../../src/model/message.js";
import { testDoubleFactory, TestDoublePeer } from "../../support/test-double-adapter.js";
import { startTestGateway, testPrefix, type TestGateway } from "../../support/gateway.js";
import { testMappings } from "../../support/mappings.js";
import { startUser, uniqueName, type TestMatrixUser } from "../../harness/synapse/clients.js";
import { ensureSynapseVenv, freePort, startSynapse, type SynapseInstance } from "../../harness/synapse/synapse.js";

const serverName = "matrix.example.org";
const mappings = testMappings({
  networks: { xmpp: {}, matrix: { settings: { serverName, puppetPrefix: "_cu_", botLocalpart: "cubot" } } },
  domains: { [serverName]: { home: "matrix" }, "chat.example.org": { home: "xmpp" } },
});
const bob = endpoint("bob@chat.example.org", "xmpp");
const puppet = toNative(bob, mappings);
const xmppPeer = new TestDoublePeer();
const prefix = testPrefix("catchup");
let synapse: SynapseInstance;
let reg: ReturnType<typeof writeRegistration>;
let port: number;
let gw: TestGateway | undefined;
let alice: TestMatrixUser;
let aliceEp: Endpoint;

/** The same deployment again (same Redis prefix: the same dedupe and room state). */
function startParley(): Promise<TestGateway> {
  return startTestGateway({
    prefix,
    factories: [matrixAdapter, testDoubleFactory("xmpp", xmppPeer)],
    adapters: {
      matrix: { homeserverUrl: synapse.baseUrl, appserviceId: "parley-catchup", asToken: reg.asToken, hsToken: reg.hsToken, listen: { host: "127.0.0.1", port }, requestTimeoutMs: 5_000 },
      xmpp: {},
    },
    mappings,
  });
}

/**
 * Make the stopped Synapse forget every event it has not pushed yet: no stored transaction to
 * retry, and its application-service stream position past the last event, so nothing is read
 * again at start (what a stop in Synapse's in-memory window leaves behind).
 */
async function forgetUnpushed(dir: string): Promise<number> {
  const python = await ensureSynapseVenv();
  const script = [
    "import sqlite3, sys",
    "db = sqlite3.connect(sys.argv[1])",
    "n = db.execute('SELECT COUNT(*) FROM application_services_txns').fetchone()[0]",
    "db.execute('DELETE FROM application_services_txns')",
    "db.execute('UPDATE appservice_stream_position SET stream_ordering = (SELECT MAX(stream_ordering) FROM events)')",
    "db.commit()",
    "print(n)",
  ].join("\n");
  const { stdout } = await promisify(execFile)(python, ["-c", script, join(dir, "homeserver.db")]);
  return Number(stdout.trim());
}

const received = (text: string) => xmppPeer.messages.filter((m) => plainText(m) === text).length;

beforeAll(async () => {
  port = await freePort();
  reg = writeRegistration({ id: "parley-catchup", url: `http://127.0.0.1:${port}`, mappings });
  synapse = await startSynapse({ serverName, appserviceRegistrations: [reg.yaml] });
  gw = await startParley();
  alice = await startUser(synapse.baseUrl, synapse.registrationSharedSecret, uniqueName("cora"));
  aliceEp = endpoint(`${alice.userId.slice(1, alice.userId.indexOf(":"))}@${serverName}`, "matrix");
}, 120_000);

afterAll(async () => {
  alice?.stop();
  await gw?.destroy();
  await synapse?.stop({ cleanup: true });
});

describe("Matrix catch-up (issue 10)", () => {
  it("delivers, exactly once and in order, messages Synapse accepted and never pushed", async () => {
    const hello = MessageSchema.parse({ id: newCanonicalId(), from: bob, to: aliceEp, authenticatedBy: { method: "network" }, sentAt: new Date().toISOString(), parts: [{ role: "text", body: "hello cora" }] });
    await gw!.gateway.accept(bob.network, [{ kind: "message", message: hello }]);
    const first = await alice.waitForMessage("hello cora", puppet);
    const roomId = first.getRoomId()!;
    await alice.waitForEvent((e) => e.getRoomId() === roomId && e.getStateKey() === alice.userId && e.getContent().membership === "join");
    await alice.say(roomId, { msgtype: "m.text", body: "pushed" });
    await expect.poll(() => received("pushed"), { timeout: 20_000 }).toBe(1);

    // Parley down: Synapse takes alice's messages and cannot push them.
    await gw!.stop();
    gw = undefined;
    const lost = ["unpushed 0", "unpushed 1", "unpushed 2"];
    for (const body of lost) await alice.say(roomId, { msgtype: "m.text", body });
    await synapse.stop();
    const forgotten = await forgetUnpushed(synapse.dataDir);
    await synapse.restart();

    gw = await startParley();
    await expect.poll(() => lost.map(received), { timeout: 30_000 }).toEqual([1, 1, 1]);
    console.log(`measured: ${lost.length} messages Synapse never pushed (${forgotten} stored transactions deleted) delivered by the catch-up`);
    const order = xmppPeer.messages.map((m) => plainText(m)).filter((t) => lost.includes(t));
    expect(order).toEqual(lost);

    // Live pushes go on, and nothing read back arrives a second time.
    await alice.say(roomId, { msgtype: "m.text", body: "after" });
    await expect.poll(() => received("after"), { timeout: 20_000 }).toBe(1);
    expect([received("pushed"), ...lost.map(received)]).toEqual([1, 1, 1, 1]);
  }, 150_000);
});
