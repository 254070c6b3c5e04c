/**
 * Issue 14: past the shared per-sender limit, each network's sender hears its own "slow down",
 * through the real servers: the XMPP client gets `<error type='wait'><policy-violation/>` for its
 * message, the Matrix user a notice in the DM with `errcode: M_LIMIT_EXCEEDED` and
 * `retry_after_ms`, the mailbox's MTA `451 4.7.1` after DATA. A mail to five recipients counts as
 * one message, not five. (That the count is shared by two ingress processes:
 * test/integration/gateway/limits.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { endpoint } from "../../../src/model/address.js";
import type { DomainMappings } from "../../../src/mappings/types.js";
import type { TestGateway } from "../../support/gateway.js";
import { startUser, uniqueName, type TestMatrixUser } from "../../harness/synapse/clients.js";
import { mtaCoordinates } from "../../harness/mta/inject.js";
import { smtpSend } from "../../harness/mta/smtp-client.js";
import { connectUser, xml, type TestUser } from "../xmpp/support.js";
import { composeMail } from "../email/support.js";
import { crossFactories, startCrossGateway } from "./gateway.js";
import { bodyOf } from "./rig.js";

const SLOT = 16; // its own slot: puppets, rooms and homeserver backoff of another file never carry over
const LIMIT = 3;
let gw: TestGateway;
let mappings: DomainMappings;
let alice: TestUser;
let bob: TestMatrixUser;

beforeAll(async () => {
  const synapse = inject("synapse");
  ({ gw, mappings } = await startCrossGateway({ prosody: inject("prosody"), synapse, mta: mtaCoordinates() }, SLOT, undefined, undefined, {}, undefined, undefined, undefined, { enabled: true, perSenderPerMinute: LIMIT, perDomainPerMinute: 0 }));
  alice = await connectUser("alice", { resource: "limits" });
  bob = await startUser(synapse.baseUrl, synapse.registrationSharedSecret, uniqueName("bob"));
});
afterAll(async () => {
  bob?.stop();
  await alice?.stop();
  await gw?.destroy();
});

const on = (network: "xmpp" | "matrix" | "email", address: string, home: "xmpp" | "matrix" | "email") =>
  crossFactories()[network].addressing.toNative(endpoint(address, home), mappings);

describe("the shared rate limits answer in each network's own terms (issue 14)", () => {
  let dmRoom: string;

  it("XMPP: the message past the limit comes back as <error type='wait'><policy-violation/>", async () => {
    const bobJid = on("xmpp", `${bob.userId.slice(1, bob.userId.indexOf(":"))}@${inject("synapse").serverName}`, "matrix");
    const run = Date.now().toString(36);
    for (let i = 1; i <= LIMIT; i++) await alice.send(xml("message", { type: "chat", to: bobJid, id: `${run}-${i}` }, xml("body", {}, `limit ${run} ${i}`)));
    const first = await bob.waitForMessage(`limit ${run} 1`, on("matrix", alice.bare, "xmpp"), 30_000);
    dmRoom = first.getRoomId()!;
    await alice.send(xml("message", { type: "chat", to: bobJid, id: `${run}-over` }, xml("body", {}, `limit ${run} over`)));
    const bounce = await alice.inbox.next((s) => s.is("message") && s.attrs.type === "error" && s.attrs.id === `${run}-over`, 30_000, "the error for the message past the limit");
    const error = bounce.getChild("error")!;
    expect(error.attrs.type).toBe("wait");
    expect(error.getChild("policy-violation")).toBeDefined();
    expect(error.getChildText("text")).toMatch(/too many messages from .*; retry in \d+ s/);
  });

  it("Matrix: the event past the limit gets a notice with M_LIMIT_EXCEEDED and retry_after_ms", async () => {
    await bob.waitForEvent((e) => e.getRoomId() === dmRoom && e.getStateKey() === bob.userId && e.getContent().membership === "join", 30_000, "bob in the DM");
    const run = Date.now().toString(36);
    for (let i = 1; i <= LIMIT + 1; i++) await bob.say(dmRoom, { msgtype: "m.text", body: `from matrix ${run} ${i}` });
    const notice = await bob.waitForEvent((e) => e.getRoomId() === dmRoom && e.getContent().errcode === "M_LIMIT_EXCEEDED", 30_000, "the slow-down notice");
    expect(notice.getContent().msgtype).toBe("m.notice");
    expect(notice.getContent().retry_after_ms).toBeGreaterThan(0);
    const got = await alice.inbox.next((s) => s.is("message") && bodyOf(s) === `from matrix ${run} ${LIMIT}`, 30_000, "the last message within the limit");
    expect(got).toBeDefined();
  });

  it("email: the mail past the limit is answered 451 4.7.1 after DATA", async () => {
    const to = on("email", alice.bare, "xmpp");
    const finals: Array<[number | undefined, string | undefined]> = [];
    for (let i = 1; i <= LIMIT + 1; i++) {
      const raw = await composeMail({ from: "Carol <carol@example.org>", to, text: `mail ${i}` });
      const r = await smtpSend(mtaCoordinates().parleyPort, { from: "carol@example.org", to: [to] }, raw);
      finals.push([r.final, r.finalText]);
    }
    expect(finals.slice(0, LIMIT).map(([c]) => c)).toEqual([250, 250, 250]);
    expect(finals[LIMIT]![0]).toBe(451);
    expect(finals[LIMIT]![1]).toMatch(/^4\.7\.1 /);
  });

  it("email: a mail to five recipients counts once against its sender's limit", async () => {
    const domain = inject("prosody").userDomain;
    const to = ["alice", "trent", "peggy", "ivan", "judy"].map((u) => on("email", `${u}@${domain}`, "xmpp"));
    const finals: Array<[number | undefined, string | undefined]> = [];
    for (let i = 1; i <= LIMIT + 1; i++) {
      const raw = await composeMail({ from: "Dave <dave@example.org>", to: to.join(", "), text: `to five ${i}` });
      const r = await smtpSend(mtaCoordinates().parleyPort, { from: "dave@example.org", to }, raw);
      finals.push([r.final, r.finalText]);
    }
    // Counted per recipient, the second mail (recipients 6–10) would be refused: 451 for all of them.
    expect(finals.map(([c]) => c)).toEqual([250, 250, 250, 451]);
    expect(finals[LIMIT]![1]).toMatch(/^4\.7\.1 /);
    await alice.inbox.next((s) => s.is("message") && bodyOf(s).includes(`to five ${LIMIT}`), 30_000, "the last mail within the limit, at one of its five recipients");
  });
});
