/**
 * RFC 2779 5.1.17, 5.1.18, 5.2.5, 5.2.6, 5.4.5 (nobody has to reveal their IP address to the other
 * party) and 4.1.6 (internationalisation: the language tag is mapped, RFC 7572 §8), on one gateway
 * with all three adapters against the run's Prosody, Synapse and Postfix, with real clients.
 *
 * Email is the one network whose payloads carry client IPs (`Received:`, `X-Originating-IP`): a mail
 * with known client IPs goes to an XMPP user and a Matrix user, and what their clients receive is
 * scanned for them. The XMPP component protocol and the Matrix application-service API never give
 * Parley a client's IP; the other way, the mail Parley writes starts its `Received:` chain at
 * Parley's own hop to the relay, so nothing before it (a chat client) is revealed.
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
// A slot of its own: three-networks.test.ts uses the first.
const slot = synapse.appservices[1]!;

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

const on = (network: "xmpp" | "matrix" | "email", who: Endpoint) =>
  ({ xmpp: xmppAdapter, matrix: matrixAdapter, email: emailAdapterFactory() })[network].addressing.toNative(who, mappings);

/** Client IPs the mail user's machine and webmail put in the mail (documentation ranges, RFC 5737 / RFC 3849). */
const CLIENT_IPS = ["198.51.100.23", "203.0.113.77", "2001:db8::77"];
const IPV4 = /\b(?:\d{1,3}\.){3}\d{1,3}\b/g;

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
  alice = await connectUser("alice", { resource: "rfc2779" });
  aliceEp = endpoint(alice.bare, "xmpp");
  bob = await startUser(synapse.baseUrl, synapse.registrationSharedSecret, uniqueName("bob"));
  bobEp = endpoint(`${bob.userId.slice(1, bob.userId.indexOf(":"))}@${synapse.serverName}`, "matrix");
});

afterAll(async () => {
  bob?.stop();
  await alice?.stop();
  await gw?.destroy();
});

const bodyOf = (s: Stanza) => s.getChildText("body") ?? "";

/** A mail as carol's client and webmail wrote it: client IPs in `Received:` and `X-Originating-IP`. */
function mailWithClientIps(to: string, text: string, extra: string[] = []) {
  return composeMail({
    from: "Carol <carol@example.org>", to, subject: "where am I", text,
    extraHeaders: [
      `Received: from carols-laptop (carols-laptop [${CLIENT_IPS[0]}]) by webmail.example.org with ESMTPSA; ${new Date().toUTCString()}`,
      `Received: from [IPv6:${CLIENT_IPS[2]}] by webmail.example.org with HTTP; ${new Date().toUTCString()}`,
      `X-Originating-IP: [${CLIENT_IPS[1]}]`,
      ...extra,
    ],
    sign: mailboxSigner("example.org"),
  });
}

describe("RFC 2779: no client IP crosses the gateway; the language tag is mapped", () => {
  it("T-5.1.17 T-5.2.5 T-5.4.5 a mail carrying its sender's client IPs reaches an XMPP user and a Matrix user with none of them", async () => {
    const aliceMail = on("email", aliceEp);
    const bobMail = on("email", bobEp);
    const text = `privacy check ${Date.now()}`;
    const raw = await mailWithClientIps(`${aliceMail}, ${bobMail}`, text);
    for (const ip of CLIENT_IPS) expect(raw.toString("latin1")).toContain(ip); // the fixture does carry them
    const sent = await smtpSend(mta.smtpPort, { from: "carol@example.org", to: [aliceMail, bobMail] }, raw);
    expect(sent.final).toBe(250);

    const stanza = await alice.inbox.next((s) => s.is("message") && bodyOf(s).includes(text), 30_000, "Carol's mail on XMPP");
    const xmlText = stanza.toString();
    for (const ip of CLIENT_IPS) expect(xmlText).not.toContain(ip);
    expect(xmlText.match(IPV4) ?? []).toEqual([]);

    const event = await bob.waitForMessage(text, on("matrix", carolEp), 30_000);
    const json = JSON.stringify(event.event);
    for (const ip of CLIENT_IPS) expect(json).not.toContain(ip);
    expect(json.match(IPV4) ?? []).toEqual([]);
  });

  it("T-5.1.18 T-5.2.6 the other way: the mail an XMPP user's and a Matrix user's messages become starts its Received: chain at Parley, with no originating IP", async () => {
    const fromAlice = `from xmpp ${Date.now()}`;
    await alice.send(xml("message", { type: "chat", to: on("xmpp", carolEp), id: `p-${Date.now()}` }, xml("body", {}, fromAlice)));
    const fromBob = `from matrix ${Date.now()}`;
    const { room_id } = await bob.client.createRoom({ invite: [on("matrix", carolEp)], is_direct: true });
    await bob.waitForEvent((e) => e.getRoomId() === room_id && e.getStateKey() === on("matrix", carolEp) && e.getContent().membership === "join", 30_000, "the puppet joining");
    await bob.say(room_id, { msgtype: "m.text", body: fromBob });
    for (const text of [fromAlice, fromBob]) {
      const mail = await waitForMail(carolInbox, (m) => m.raw.includes(text), 30_000);
      const head = mail.raw.subarray(0, mail.raw.indexOf("\r\n\r\n") >= 0 ? mail.raw.indexOf("\r\n\r\n") : mail.raw.indexOf("\n\n")).toString("latin1").replace(/\r?\n[ \t]+/g, " ");
      expect(head).not.toMatch(/^X-Originating-IP:/im);
      const received = head.split(/\r?\n/).filter((l) => /^Received:/i.test(l));
      // The only hops are the relay's: the first one (bottom-most) is Parley handing the mail over.
      expect(received.length).toBeGreaterThan(0);
      expect(received.at(-1)).toMatch(/from parley\.test\b/);
      for (const r of received.slice(0, -1)) expect(r).not.toMatch(/\bfrom\b(?! parley\.test\b)(?! localhost\b)/);
    }
  });

  it("T-4.1.6 Content-Language: cs on a mail becomes xml:lang='cs' on the XMPP message and its subject", async () => {
    const aliceMail = on("email", aliceEp);
    const text = `Dobrý den, Alice ${Date.now()}`;
    const raw = await composeMail({ from: "Carol <carol@example.org>", to: aliceMail, subject: "Příliš žluťoučký kůň", text, extraHeaders: ["Content-Language: cs"], sign: mailboxSigner("example.org") });
    const sent = await smtpSend(mta.smtpPort, { from: "carol@example.org", to: [aliceMail] }, raw);
    expect(sent.final).toBe(250);
    const stanza = await alice.inbox.next((s) => s.is("message") && bodyOf(s).includes(text), 30_000, "Carol's Czech mail on XMPP");
    expect(stanza.attrs["xml:lang"]).toBe("cs");
    const subject = stanza.getChild("subject");
    expect(subject?.text()).toBe("Příliš žluťoučký kůň");
    // The subject carries the message's language: no xml:lang of its own, or the same one.
    expect(subject?.attrs["xml:lang"] ?? "cs").toBe("cs");
  });
});
