/**
 * Through the real gateway (src/build.ts: real Redis, BullMQ workers, router) with the email
 * adapter against the private Postfix and a test-double chat network standing in for XMPP:
 * IM → email retried while the MTA is stopped and delivered when it returns; a bounce becomes a
 * failed status at the sender's adapter; email → IM reaches the chat side.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { emailAdapterFactory } from "../../../adapters/email/index.js";
import { asNetworkId, endpoint } from "../../../src/model/address.js";
import { MessageSchema, plainText } from "../../../src/model/message.js";
import { newCanonicalId } from "../../../src/model/ids.js";
import { testDoubleFactory } from "../../support/test-double-adapter.js";
import { startTestGateway, type TestGateway } from "../../support/gateway.js";
import { mtaCoordinates } from "../../harness/mta/inject.js";
import { readMaildir, waitForMail } from "../../harness/mta/maildir.js";
import { startMta, stopMta } from "../../harness/mta/postfix.js";
import { smtpSend } from "../../harness/mta/smtp-client.js";
import { adapterConfig, alice, composeMail, emailMappings, mailboxSigner, resolver } from "./support.js";
import { until } from "../../support/until.js";

const mta = mtaCoordinates();
const inbox = mta.maildirs["example.org"]!;

describe("email through the gateway", () => {
  const xmpp = testDoubleFactory("xmpp");
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({
      factories: [emailAdapterFactory({ resolver }), xmpp],
      adapters: { email: adapterConfig(mta), xmpp: {} },
      mappings: emailMappings(),
      delivery: { attempts: 40, backoffBaseMs: 100, backoffCapMs: 400 },
    });
  });
  afterAll(async () => { await gw?.destroy(); });

  let retriedValue = 0;
  const retried = () => retriedValue;
  const pollRetried = setInterval(() => {
    void (gw?.registry.getSingleMetric("parley_delivery_jobs_retried_total") as { get(): Promise<{ values: Array<{ value: number }> }> } | undefined)
      ?.get().then((v) => { retriedValue = v.values.reduce((a, x) => a + x.value, 0); });
  }, 25);
  afterAll(() => clearInterval(pollRetried));

  const chat = (to: string, text: string) => MessageSchema.parse({ id: newCanonicalId(), from: alice, to: endpoint(to, "email"), authenticatedBy: { method: "network" }, sentAt: new Date().toISOString(), parts: [{ role: "text", body: text }] });

  it("T-4.2.1 IM → email is retried while the MTA is stopped and delivered after it returns", async () => {
    const m = chat(`ivy-${Date.now()}@example.org`, "queued while the relay was down");
    await stopMta(mta);
    try {
      const [r] = await gw.gateway.accept(asNetworkId("xmpp"), [{ kind: "message", message: m }]);
      expect(r?.status).toBe("accepted");
      // The worker must have met the stopped relay and scheduled retries (a transient failure).
      await until("two retries", () => (retried() >= 2 ? true : undefined), 15_000);
      expect(readMaildir(inbox).some((x) => x.header("X-Parley-Id") === m.id)).toBe(false);
    } finally {
      await startMta(mta);
    }
    const mail = await waitForMail(inbox, (x) => x.header("X-Parley-Id") === m.id, 30_000);
    expect(mail.header("Message-ID")).toBe(`<${m.id}@chat.example.org>`);
  });

  it("T-4.2.1 T-5.4.1 a bounce for a bridged message becomes a failed status at the sender's adapter", async () => {
    const m = chat("ghost@nobody.example.org", "will bounce");
    await gw.gateway.accept(asNetworkId("xmpp"), [{ kind: "message", message: m }]);
    const status = await until("failed status", () => xmpp.peer.statuses.find((s) => s.messageId === m.id && s.state === "failed"));
    expect(status.sender).toEqual(alice);
    expect(status.reason).toBe("recipient-unknown");
  });

  it("T-4.1.2 email → IM reaches the chat network through the core", async () => {
    const text = `from mail ${newCanonicalId()}`;
    const raw = await composeMail({ from: "carol@example.org", to: "alice@chat.example.org", text, sign: mailboxSigner("example.org") });
    const email = gw.gateway.adapter(asNetworkId("email")) as unknown as { port: number };
    const r = await smtpSend(email.port, { from: "carol@example.org", to: ["alice@chat.example.org"] }, raw);
    expect(r.final).toBe(250);
    const got = await until("chat message", () => xmpp.peer.messages.find((x) => plainText(x).includes(text)));
    expect(got.from).toEqual(endpoint("carol@example.org", "email"));
    expect(got.authenticatedBy.method).toBe("domain-policy");
  });

  it("T-5.4.1 a chat-side failure after Parley answered 250 goes back to the mail sender as a DSN", async () => {
    const local = `kim-${Date.now()}`;
    const text = `will fail in chat ${newCanonicalId()}`;
    const raw = await composeMail({ from: `${local}@example.org`, to: "alice@chat.example.org", text, sign: mailboxSigner("example.org") });
    const email = gw.gateway.adapter(asNetworkId("email")) as unknown as { port: number };
    xmpp.peer.failWith = "permanent";
    try {
      expect((await smtpSend(email.port, { from: `${local}@example.org`, to: ["alice@chat.example.org"] }, raw)).final).toBe(250);
      const dsn = await waitForMail(inbox, (x) => x.header("Delivered-To") === `${local}@example.org`, 20_000);
      expect(dsn.header("Return-Path")).toBe("<>");
      expect(dsn.header("Content-Type")).toMatch(/multipart\/report/);
      expect(dsn.raw.toString()).toMatch(/Action: failed/);
    } finally {
      xmpp.peer.failWith = undefined;
    }
  });
});
