/**
 * XMPP ↔ Matrix ↔ email for real: one gateway (real Redis, BullMQ, presence) with all three
 * adapters, against the run's Prosody, Synapse and Postfix, each person using a real client —
 * an `@xmpp/client` user, a syncing `matrix-js-sdk` user, and SMTP into Postfix with the mailbox
 * read from its Maildir. Issue 4 "XMPP ↔ Matrix for real", issue 5 "one test crosses networks".
 */
import { afterAll, beforeAll, describe, expect, it, inject } from "vitest";
import { xmppAdapter } from "../../../adapters/xmpp/index.js";
import { matrixAdapter } from "../../../adapters/matrix/index.js";
import { emailAdapterFactory } from "../../../adapters/email/index.js";
import { endpoint, type Endpoint } from "../../../src/model/address.js";
import type { DomainMappings } from "../../../src/mappings/types.js";
import { testMappings } from "../../support/mappings.js";
import { startTestGateway, type TestGateway } from "../../support/gateway.js";
import { connectUser, xml, type TestUser, type Stanza } from "../xmpp/support.js";
import { startUser, uniqueName, type TestMatrixUser } from "../../harness/synapse/clients.js";
import { slotNetworkSettings } from "../../harness/synapse/slots.js";
import { mtaCoordinates } from "../../harness/mta/inject.js";
import { waitForMail } from "../../harness/mta/maildir.js";
import { smtpSend } from "../../harness/mta/smtp-client.js";
import { adapterConfig, composeMail, mailboxSigner, resolver } from "../email/support.js";

const prosody = inject("prosody");
const synapse = inject("synapse");
const mta = mtaCoordinates();
const slot = synapse.appservices[0]!;

const mappings: DomainMappings = testMappings({
  networks: {
    xmpp: { settings: { sharedDomains: { matrix: "matrix.gw.test", email: "email.gw.test" } } },
    matrix: { settings: slotNetworkSettings(synapse.serverName, slot) },
    email: { settings: { sharedDomains: { xmpp: "xmpp.gw.example.org", matrix: "matrix.gw.example.org" } } },
  },
  domains: {
    [prosody.userDomain]: { home: "xmpp" },
    [synapse.serverName]: { home: "matrix" },
    "example.org": { home: "email" },
  },
});

/** How `who` appears on `network`, by that adapter's own addressing. */
const on = (network: "xmpp" | "matrix" | "email", who: Endpoint) =>
  ({ xmpp: xmppAdapter, matrix: matrixAdapter, email: emailAdapterFactory() })[network].addressing.toNative(who, mappings);

const bodyOf = (s: Stanza) => s.getChildText("body") ?? "";

let gw: TestGateway;
let alice: TestUser;
let bob: TestMatrixUser;
let aliceEp: Endpoint;
let bobEp: Endpoint;
const carolEp = endpoint("carol@example.org", "email");
const carolInbox = mta.maildirs["example.org"]!;

beforeAll(async () => {
  gw = await startTestGateway({
    factories: [xmppAdapter, matrixAdapter, emailAdapterFactory({ resolver })],
    adapters: {
      xmpp: { host: prosody.host, port: prosody.componentPort, componentSecret: prosody.componentSecret, reconnect: { baseMs: 100, maxMs: 1000 } },
      matrix: { homeserverUrl: synapse.baseUrl, appserviceId: slot.id, asToken: slot.asToken, hsToken: slot.hsToken, listen: { host: "127.0.0.1", port: slot.port } },
      email: adapterConfig(mta),
    },
    mappings,
    delivery: { attempts: 20, backoffBaseMs: 100, backoffCapMs: 1000 },
  });
  alice = await connectUser("alice");
  aliceEp = endpoint(alice.bare, "xmpp");
  bob = await startUser(synapse.baseUrl, synapse.registrationSharedSecret, uniqueName("bob"));
  bobEp = endpoint(`${bob.userId.slice(1, bob.userId.indexOf(":"))}@${synapse.serverName}`, "matrix");
});

afterAll(async () => {
  bob?.stop();
  await alice?.stop();
  await gw?.destroy();
});

describe("three networks through one gateway, with real clients", () => {
  let dmRoom: string;

  it("T-2.1.3 T-4.1.1 an XMPP user and a Matrix user exchange messages", async () => {
    const bobJid = on("xmpp", bobEp);
    const alicePuppet = on("matrix", aliceEp);
    await alice.send(xml("message", { type: "chat", to: bobJid, id: "x1" }, xml("body", {}, "Hello Bob, from XMPP")));
    const seen = await bob.waitForMessage("Hello Bob, from XMPP", alicePuppet, 30_000);
    dmRoom = seen.getRoomId()!;
    await bob.waitForEvent((e) => e.getRoomId() === dmRoom && e.getStateKey() === bob.userId && e.getContent().membership === "join");
    await bob.say(dmRoom, { msgtype: "m.text", body: "Hi Alice, from Matrix" });
    const reply = await alice.inbox.next((s) => s.is("message") && bodyOf(s) === "Hi Alice, from Matrix", 30_000, "Bob's reply");
    expect(String(reply.attrs.from).split("/")[0]).toBe(bobJid);
  });

  it("T-2.3.2 T-3.1.1 T-5.1.5 an XMPP user sees a Matrix user's presence once the Matrix user approves", async () => {
    const bobJid = on("xmpp", bobEp);
    await alice.send(xml("presence", { type: "subscribe", to: bobJid }));
    const ask = await bob.waitForMessage("asks to see your presence", `@${slot.botLocalpart}:${synapse.serverName}`, 30_000);
    await bob.say(ask.getRoomId()!, { msgtype: "m.text", body: `approve ${aliceEp.address}` });
    await alice.inbox.next((s) => s.is("presence") && s.attrs.type === "subscribed" && s.attrs.from === bobJid, 30_000, "subscribed");
    await bob.client.setPresence({ presence: "online", status_msg: "at my desk" });
    const seen = await alice.inbox.next((s) => s.is("presence") && s.attrs.type === undefined && s.attrs.from?.split("/")[0] === bobJid && s.getChildText("status") === "at my desk", 30_000, "Bob online");
    expect(seen.getChildText("status")).toBe("at my desk");
  });

  it("T-2.3.2 T-3.1.1 T-5.1.6 a Matrix user asks through the bridge bot to see an XMPP user's presence, and sees it once approved on the roster", async () => {
    const bobJid = on("xmpp", bobEp);
    const bot = `@${slot.botLocalpart}:${synapse.serverName}`;
    const botRoom = (await bob.waitForMessage("asks to see your presence", bot)).getRoomId()!;
    await bob.say(botRoom, { msgtype: "m.text", body: `watch ${aliceEp.address}` });
    await alice.inbox.next((s) => s.is("presence") && s.attrs.type === "subscribe" && s.attrs.from === bobJid, 30_000, "Bob's subscribe");
    await alice.send(xml("presence", { type: "subscribed", to: bobJid }));
    await bob.waitForMessage("approved", bot, 30_000);
    await alice.send(xml("presence", {}, xml("show", {}, "away"), xml("status", {}, "coffee")));
    const p = await bob.waitForPresence(on("matrix", aliceEp), "unavailable", 30_000);
    expect(p.statusMsg).toBe("coffee");
  });

  it("T-2.1.2 T-4.1.3 T-5.4.4 a mailbox writes to an XMPP user, who answers by chat; the answer threads under the mail", async () => {
    const aliceMail = on("email", aliceEp);
    const carolJid = on("xmpp", carolEp);
    const messageId = `<cross-${Date.now()}@example.org>`;
    const raw = await composeMail({ from: "Carol <carol@example.org>", to: aliceMail, subject: "lunch?", text: "Hello Alice, from email", messageId, sign: mailboxSigner("example.org") });
    const sent = await smtpSend(mta.smtpPort, { from: "carol@example.org", to: [aliceMail] }, raw);
    expect(sent.final).toBe(250);
    const chat = await alice.inbox.next((s) => s.is("message") && bodyOf(s).includes("Hello Alice, from email"), 30_000, "Carol's mail as chat");
    expect(String(chat.attrs.from).split("/")[0]).toBe(carolJid);
    await alice.send(xml("message", { type: "chat", to: carolJid, id: "x2" }, xml("body", {}, "Lunch at noon, from XMPP")));
    const mail = await waitForMail(carolInbox, (m) => m.raw.includes("Lunch at noon, from XMPP"), 30_000);
    expect(mail.header("in-reply-to")).toBe(messageId);
    expect(mail.header("from")).toContain(aliceMail);
  });

  it("T-2.1.2 a Matrix user writes to a mailbox through a direct chat with its puppet, and the mailbox never shows presence", async () => {
    const carolPuppet = on("matrix", carolEp);
    const { room_id } = await bob.client.createRoom({ invite: [carolPuppet], is_direct: true });
    await bob.waitForEvent((e) => e.getRoomId() === room_id && e.getStateKey() === carolPuppet && e.getContent().membership === "join", 30_000, "the puppet joining");
    await bob.say(room_id, { msgtype: "m.text", body: "Hello Carol, from Matrix" });
    const mail = await waitForMail(carolInbox, (m) => m.raw.includes("Hello Carol, from Matrix"), 30_000);
    expect(mail.header("from")).toContain(on("email", bobEp));
    expect(await gw.presence.presenceFor(bobEp, carolEp)).toBeUndefined();
  });
});
