/**
 * The demo's scripted conversation, played with real clients: alice@chat.demo on XMPP, bob on
 * Matrix (@bob:matrix.demo) and the mailbox carol@mail.demo greet each other; alice asks to see
 * bob's presence and bob approves through the bridge bot; bob goes away and comes back; and one
 * message fails on purpose, the failure reaching its sender's own client. Each hop's latency is
 * measured from the send to the real receiving client observing it.
 */
import { randomBytes } from "node:crypto";
import { simpleParser } from "mailparser";
import { SetPresence } from "matrix-js-sdk";
import { startUser, type TestMatrixUser } from "../../test/harness/synapse/clients.js";
import { readMaildir, type MaildirMessage } from "../../test/harness/mta/maildir.js";
import { smtpSend } from "../../test/harness/mta/smtp-client.js";
import type { DemoDeployment } from "./deployment.js";
import { DEMO } from "./files.js";
import { connectXmppUser, xml, type Stanza, type XmppTestUser } from "../../test/harness/prosody/client.js";
import { errorMessage } from "../../src/errors/message.js";

const STEP_TIMEOUT_MS = 30_000;

export interface StepResult {
  readonly network: string;
  readonly line: string;
  readonly ok: boolean;
  /** Latency of the hop (send → the receiving client observed it), when it happened. */
  readonly ms?: number;
  readonly outcome: string;
}

export type Printer = (line: string) => void;

const alice = `alice@${DEMO.xmppDomain}`;
const bobAddr = `bob@${DEMO.matrixServer}`;
const carol = `carol@${DEMO.mailDomain}`;
const ghost = `ghost@${DEMO.matrixServer}`;
const alicePuppet = `@_chat_alice:${DEMO.matrixServer}`;
const carolPuppet = `@_mail_carol:${DEMO.matrixServer}`;
const bot = `@parley:${DEMO.matrixServer}`;

async function waitUntil<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = STEP_TIMEOUT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not seen within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 25)); // polling a Maildir, not synchronising on time
  }
}

const isMessageWith = (text: string, from?: string) => (s: Stanza) =>
  s.is("message") && s.attrs.type !== "error" && (s.getChildText("body") ?? "").includes(text) && (from === undefined || String(s.attrs.from).split("/")[0] === from);

/** A mail for `rcpt` in the mailbox's Maildir whose text contains `text`. */
async function mailFor(d: DemoDeployment, rcpt: string, text: string): Promise<MaildirMessage | undefined> {
  const dir = d.mta.maildirs[DEMO.mailDomain]!;
  for (const m of readMaildir(dir)) {
    if (m.header("Delivered-To") !== rcpt) continue;
    if ((await simpleParser(m.raw)).text?.includes(text)) return m;
  }
  return undefined;
}

function mailText(from: string, to: string, subject: string, text: string): string {
  return [
    `From: Carol <${from}>`, `To: <${to}>`, `Subject: ${subject}`, `Date: ${new Date().toUTCString()}`,
    `Message-ID: <${randomBytes(8).toString("hex")}@${DEMO.mailDomain}>`, "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8", "", text, "",
  ].join("\r\n");
}

export class Conversation {
  readonly results: StepResult[] = [];
  private aliceX?: XmppTestUser;
  private bobM?: TestMatrixUser;
  private dmWithAlice?: string;

  constructor(private readonly d: DemoDeployment, private readonly print: Printer) {}

  /** Run one hop; a failure is recorded and printed, and the conversation goes on. */
  private async hop(network: string, line: string, run: () => Promise<string>): Promise<boolean> {
    const t0 = performance.now();
    try {
      const outcome = await run();
      const ms = Math.round(performance.now() - t0);
      this.results.push({ network, line, ok: true, ms, outcome });
      this.print(`[${network}] ${line}\n         … ${outcome} in ${ms} ms`);
      return true;
    } catch (e) {
      const outcome = errorMessage(e);
      this.results.push({ network, line, ok: false, outcome });
      this.print(`[${network}] ${line}\n         ✗ ${outcome}`);
      return false;
    }
  }

  /** The networks whose adapter is not ready (the demo says so instead of hanging). */
  notReady(): string[] {
    return ["xmpp", "matrix", "email"].filter((n) => {
      const a = this.d.gateway.gateway.adapter(n as never);
      return a === undefined || !a.health().ready;
    });
  }

  async play(): Promise<StepResult[]> {
    const missing = this.notReady();
    for (const n of missing) this.print(`!! the ${n} adapter is not ready: the steps through ${n} will fail`);
    this.print("Logging in: alice on XMPP, bob on Matrix; carol reads her Maildir …");
    this.aliceX = await connectXmppUser(this.d.prosody, "alice", { resource: "demo" });
    this.bobM = await startUser(this.d.synapse.baseUrl, this.d.synapse.registrationSharedSecret, "bob");
    this.print("");
    await this.greetings();
    await this.presence();
    await this.failure();
    return this.results;
  }

  private async greetings(): Promise<void> {
    const a = this.aliceX!;
    const b = this.bobM!;
    await this.hop("xmpp", `${alice} → ${bobAddr} (matrix): "Hello Bob, Alice here on XMPP"`, async () => {
      await a.send(xml("message", { to: bobAddr, type: "chat", id: "demo-1" }, xml("body", {}, "Hello Bob, Alice here on XMPP")));
      const e = await b.waitForMessage("Hello Bob, Alice here on XMPP", alicePuppet, STEP_TIMEOUT_MS);
      this.dmWithAlice = e.getRoomId();
      return `delivered to Matrix (bob sees it from ${alicePuppet})`;
    });
    await this.hop("matrix", `${bobAddr} → ${alice} (xmpp): "Hi Alice! Bob on Matrix"`, async () => {
      if (!this.dmWithAlice) throw new Error("no room with alice's puppet (the previous hop failed)");
      await b.say(this.dmWithAlice, { msgtype: "m.text", body: "Hi Alice! Bob on Matrix" });
      await a.inbox.next(isMessageWith("Hi Alice! Bob on Matrix", bobAddr), STEP_TIMEOUT_MS, "bob's reply");
      return `delivered to XMPP (alice sees it from ${bobAddr})`;
    });
    await this.hop("xmpp", `${alice} → ${carol} (email): "Hello Carol, Alice here"`, async () => {
      await a.send(xml("message", { to: carol, type: "chat", id: "demo-2" }, xml("body", {}, "Hello Carol, Alice here")));
      await waitUntil("the mail in carol's Maildir", () => mailFor(this.d, carol, "Hello Carol, Alice here"));
      return "delivered to carol's mailbox (through the MTA)";
    });
    await this.hop("email", `${carol} → ${alice} (xmpp): "Hi Alice, Carol answering by mail"`, async () => {
      const r = await smtpSend(this.d.mta.smtpPort, { from: carol, to: [alice] }, mailText(carol, alice, "Hello", "Hi Alice, Carol answering by mail"));
      if (r.final !== 250) throw new Error(`the MTA answered ${r.final ?? r.rcpt.join(",")}`);
      await a.inbox.next(isMessageWith("Hi Alice, Carol answering by mail", carol), STEP_TIMEOUT_MS, "carol's mail");
      return `delivered to XMPP (alice sees it from ${carol})`;
    });
    await this.hop("matrix", `${bobAddr} → ${carol} (email): "Hi Carol, Bob from Matrix"`, async () => {
      const { room_id: roomId } = await b.client.createRoom({ is_direct: true, invite: [carolPuppet], preset: "trusted_private_chat" as never });
      await b.waitForEvent((e) => e.getRoomId() === roomId && e.getType() === "m.room.member" && e.getStateKey() === carolPuppet && e.getContent().membership === "join", STEP_TIMEOUT_MS, "carol's puppet joining");
      await b.say(roomId, { msgtype: "m.text", body: "Hi Carol, Bob from Matrix" });
      await waitUntil("the mail in carol's Maildir", () => mailFor(this.d, carol, "Hi Carol, Bob from Matrix"));
      return "delivered to carol's mailbox";
    });
    await this.hop("email", `${carol} → ${bobAddr} (matrix): "Hello Bob, Carol by mail"`, async () => {
      const r = await smtpSend(this.d.mta.smtpPort, { from: carol, to: [bobAddr] }, mailText(carol, bobAddr, "Hello", "Hello Bob, Carol by mail"));
      if (r.final !== 250) throw new Error(`the MTA answered ${r.final ?? r.rcpt.join(",")}`);
      await b.waitForMessage("Hello Bob, Carol by mail", carolPuppet, STEP_TIMEOUT_MS);
      return `delivered to Matrix (bob sees it from ${carolPuppet})`;
    });
  }

  private presenceFromBob(pred: (s: Stanza) => boolean) {
    return (s: Stanza) => s.is("presence") && String(s.attrs.from).split("/")[0] === bobAddr && pred(s);
  }

  private async presence(): Promise<void> {
    const a = this.aliceX!;
    const b = this.bobM!;
    const asked = await this.hop("xmpp", `${alice} asks to see ${bobAddr}'s presence`, async () => {
      await a.send(xml("presence", { to: bobAddr, type: "subscribe" }));
      await b.waitForMessage("asks to see your presence", bot, STEP_TIMEOUT_MS);
      return "bob gets the request from the bridge bot";
    });
    if (!asked) return;
    await this.hop("matrix", `${bobAddr} tells the bot: "approve ${alice}"`, async () => {
      const ask = await b.waitForMessage("asks to see your presence", bot, 1_000);
      await b.say(ask.getRoomId()!, { msgtype: "m.text", body: `approve ${alice}` });
      await a.inbox.next(this.presenceFromBob((s) => s.attrs.type === "subscribed"), STEP_TIMEOUT_MS, "subscribed");
      return "alice's client shows the subscription approved";
    });
    await this.hop("matrix", `${bobAddr} goes away ("at lunch")`, async () => {
      // A syncing client keeps its sync presence (Synapse resets an explicit "unavailable" on the next
      // /sync?set_presence=online): set both, as a client going idle does.
      await b.client.setSyncPresence(SetPresence.Unavailable);
      await b.client.setPresence({ presence: "unavailable", status_msg: "at lunch" });
      const s = await a.inbox.next(this.presenceFromBob((p) => p.attrs.type === undefined && p.getChildText("show") === "away"), STEP_TIMEOUT_MS, "bob away");
      return `alice sees bob away: "${s.getChildText("status") ?? ""}"`;
    });
    await this.hop("matrix", `${bobAddr} comes back`, async () => {
      await b.client.setSyncPresence(SetPresence.Online);
      await b.client.setPresence({ presence: "online", status_msg: "back" });
      await a.inbox.next(this.presenceFromBob((p) => p.attrs.type === undefined && p.getChildText("show") === null), STEP_TIMEOUT_MS, "bob available");
      return "alice sees bob available again";
    });
  }

  private async failure(): Promise<void> {
    const a = this.aliceX!;
    await this.hop("xmpp", `${alice} → ${ghost} (matrix, no such user): "Are you there?"`, async () => {
      await a.send(xml("message", { to: ghost, type: "chat", id: "demo-fail" }, xml("body", {}, "Are you there?")));
      const err = await a.inbox.next((s) => s.is("message") && s.attrs.type === "error" && s.attrs.id === "demo-fail", STEP_TIMEOUT_MS, "the error");
      const e = err.getChild("error");
      const condition = e?.getChildElements().find((c) => c.attrs.xmlns === "urn:ietf:params:xml:ns:xmpp-stanzas" && c.name !== "text")?.name ?? "?";
      const text = e?.getChildText("text", "urn:ietf:params:xml:ns:xmpp-stanzas") ?? "";
      return `failed as intended, reported to alice's client: <${condition}/> "${text}"`;
    });
  }

  async stop(): Promise<void> {
    await this.aliceX?.stop();
    this.bobM?.stop();
  }
}
