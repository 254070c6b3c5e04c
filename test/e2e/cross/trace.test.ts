/**
 * What happened to a message, end to end (issue 17): real messages through the real Prosody,
 * Synapse and Postfix, their hops read back as an operator does — `GET /trace/:query` on the
 * admin API (the JSON `parley trace` prints from) — in order, with durations.
 *   - XMPP → Matrix, found by the Matrix event id the homeserver gave it (a destination native id).
 *   - XMPP → email whose first attempts Postfix answers 451: failed attempts, then relayed.
 *   - XMPP → email refused with 550: a permanent failure, the failure reported back on XMPP.
 *   - email → XMPP, submitted over SMTP to Postfix, which relays it to Parley: the component link
 *     to Prosody (through a TCP proxy) dies while the message's stanza is in flight, so the first
 *     attempt fails; the retry on the new link delivers it. Printed by `parley trace <Message-ID>`.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { endpoint } from "../../../src/model/address.js";
import type { Hop, TraceLookup } from "../../../src/trace/index.js";
import { formatLookup } from "../../../src/trace/index.js";
import { traceCommand } from "../../../src/cli/trace.js";
import { setRecipientAccess } from "../../harness/mta/postfix.js";
import { smtpSend } from "../../harness/mta/smtp-client.js";
import { TcpProxy } from "../../harness/tcp-proxy.js";
import { composeMail, mailboxSigner } from "../email/support.js";
import { waitForMail } from "../../harness/mta/maildir.js";
import { until } from "../../support/until.js";
import { xml } from "../xmpp/support.js";
import { bodyOf, startCrossRig, type CrossRig } from "./rig.js";

const SLOT = 2;
const TOKEN = "cross-trace-admin-token-0123456789";
let r: CrossRig;
let base: string;
let link: TcpProxy;
beforeAll(async () => {
  const prosody = inject("prosody");
  link = await TcpProxy.start(prosody.host, prosody.componentPort);
  r = await startCrossRig(SLOT, "trace", undefined, undefined, { token: TOKEN }, { host: "127.0.0.1", port: link.port });
  const a = r.gw.adminAddress()!;
  base = `http://${a.host}:${a.port}`;
});
afterAll(async () => {
  await setRecipientAccess(r.mta, {}).catch(() => undefined);
  await r?.stop();
  await link?.close();
});

async function trace(query: string): Promise<TraceLookup> {
  const res = await fetch(`${base}/trace/${encodeURIComponent(query)}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as TraceLookup;
}

/** Poll the admin API until the trace of `query` holds a `last` hop; its hops, oldest first. */
async function hopsUntil(query: string, last: Hop["hop"]): Promise<readonly Hop[]> {
  return until(`a ${last} hop in the trace of ${query}`, async () => {
    const t = (await trace(query)).traces[0];
    return t?.hops.some((h) => h.hop === last) ? t.hops : undefined;
  }, 60_000, 200);
}

/** What `parley trace <query>` prints, run against this gateway's Redis and config. */
async function parleyTrace(query: string): Promise<string> {
  const out = await traceCommand([query], async () => ({ config: r.gw.config }));
  expect(out.exitCode).toBe(0);
  return out.lines.join("\n");
}

const kinds = (hops: readonly Hop[]) => hops.map((h) => h.hop);

function expectInOrder(hops: readonly Hop[]): void {
  for (let i = 1; i < hops.length; i++) expect(hops[i]!.at).toBeGreaterThanOrEqual(hops[i - 1]!.at);
  for (const a of hops.filter((h) => h.hop === "attempt")) expect(a.durMs).toBeGreaterThan(0);
}

describe("trace of real messages across networks", () => {
  it("XMPP → Matrix: accepted, routed, enqueued, one attempt, relayed — found by the Matrix event id", async () => {
    const text = `traced ${randomBytes(4).toString("hex")}`;
    await r.alice.send(xml("message", { type: "chat", to: r.on("xmpp", r.bobEp), id: `tr-${Date.now()}` }, xml("body", {}, text)));
    const event = await r.bob.waitForMessage(text, r.on("matrix", r.aliceEp), 30_000);
    const hops = await hopsUntil(event.getId()!, "relayed");
    expect(kinds(hops)).toEqual(["accepted", "routed", "enqueued", "attempt", "relayed"]);
    expect(hops[0]).toMatchObject({ network: "xmpp", from: r.aliceEp.address, to: r.bobEp.address });
    expect(hops[1]).toMatchObject({ network: "matrix", policy: "allowed" });
    expect(hops[3]).toMatchObject({ network: "matrix", attempt: 1, outcome: "relayed" });
    expectInOrder(hops);
    expect(JSON.stringify(hops)).not.toContain(text); // no bodies
    expect(formatLookup(await trace(event.getId()!)).join("\n")).toBe(await parleyTrace(event.getId()!));
    const printed = await parleyTrace(event.getId()!);
    expect(printed).toMatch(/accepted[\s\S]*routed[\s\S]*enqueued[\s\S]*attempt[\s\S]*took=[\s\S]*relayed/);
  });

  it("XMPP → email: attempts Postfix answers 451 show as failed (transient), then the one relayed; a 550 fails for good and is reported back on XMPP", async () => {
    const tag = randomBytes(4).toString("hex");
    const later = endpoint(`later-${tag}@example.org`, "email");
    const gone = endpoint(`gone-${tag}@example.org`, "email");
    await setRecipientAccess(r.mta, { [later.address]: "451 4.3.0 Try again later", [gone.address]: "550 5.1.1 No such user here" });
    await r.alice.send(xml("message", { type: "chat", to: r.on("xmpp", later), id: `tl-${tag}` }, xml("body", {}, `later ${tag}`)));
    await r.alice.send(xml("message", { type: "chat", to: r.on("xmpp", gone), id: `tg-${tag}` }, xml("body", {}, `gone ${tag}`)));

    const failedHops = await hopsUntil(gone.address, "reported");
    expect(kinds(failedHops)).toEqual(["accepted", "routed", "enqueued", "attempt", "failed", "reported"]);
    expect(failedHops[3]).toMatchObject({ network: "email", outcome: "failed", failureClass: "permanent" });
    expect(failedHops[5]).toMatchObject({ network: "xmpp", state: "failed" });
    expectInOrder(failedHops);

    // Let a 451 attempt be recorded, then accept the recipient: the next retry is relayed.
    await until("a failed attempt", async () => ((await trace(later.address)).traces[0]?.hops.some((h) => h.hop === "attempt") ? true : undefined), 60_000, 200);
    await setRecipientAccess(r.mta, {});
    const hops = await hopsUntil(later.address, "relayed");
    await waitForMail(r.carolInbox, (m) => m.raw.includes(`later ${tag}`), 30_000);
    const attempts = hops.filter((h) => h.hop === "attempt");
    expect(kinds(hops).slice(0, 4)).toEqual(["accepted", "routed", "enqueued", "attempt"]);
    expect(kinds(hops).at(-1)).toBe("relayed");
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    expect(attempts[0]).toMatchObject({ attempt: 1, outcome: "failed", failureClass: "transient" });
    expect(attempts.at(-1)).toMatchObject({ outcome: "relayed", attempt: attempts.length });
    expectInOrder(hops);
  });

  it("email → XMPP: a mail through Postfix whose stanza dies with the component link fails its first attempt, the retry delivers it; `parley trace <Message-ID>` shows every hop", async () => {
    const tag = `lost${randomBytes(4).toString("hex")}`;
    const aliceMail = r.on("email", r.aliceEp);
    const messageId = `<trace-${tag}@example.org>`;
    const raw = await composeMail({ from: "Carol <carol@example.org>", to: aliceMail, subject: "traced", text: `first try ${tag}`, messageId, sign: mailboxSigner("example.org") });
    const cut = link.cutOn(tag); // the link dies the moment the stanza with this text is written to it
    expect((await smtpSend(r.mta.smtpPort, { from: "carol@example.org", to: [aliceMail] }, raw)).final).toBe(250);
    const { restore } = await cut;
    // The first attempt is recorded failed before the link comes back: it failed for real.
    const failed = await until("the first attempt failed", async () => (await trace(messageId)).traces[0]?.hops.find((h) => h.hop === "attempt"), 30_000, 200);
    expect(failed).toMatchObject({ network: "xmpp", attempt: 1, outcome: "failed", failureClass: "transient", reason: "unavailable" });
    await restore();

    const chat = await r.alice.inbox.next((s) => s.is("message") && bodyOf(s).includes(tag), 30_000, "the mail as chat, after the retry");
    expect(String(chat.attrs.from).split("/")[0]).toBe(r.on("xmpp", r.carolEp));
    const hops = await hopsUntil(messageId, "relayed");
    const attempts = hops.filter((h) => h.hop === "attempt");
    expect(kinds(hops)).toEqual(["accepted", "routed", "enqueued", ...attempts.map(() => "attempt"), "relayed"]);
    expect(hops[0]).toMatchObject({ network: "email", from: r.carolEp.address, to: r.aliceEp.address, nativeIds: [messageId] });
    expect(hops[1]).toMatchObject({ network: "xmpp", policy: "allowed" });
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    expect(attempts[0]).toMatchObject({ attempt: 1, outcome: "failed", failureClass: "transient", reason: "unavailable" });
    expect(attempts.slice(1, -1).every((a) => a.outcome === "failed")).toBe(true);
    expect(attempts.at(-1)).toMatchObject({ network: "xmpp", outcome: "relayed", attempt: attempts.length });
    expectInOrder(hops);
    expect(JSON.stringify(hops)).not.toContain("first try"); // no bodies

    const printed = await parleyTrace(messageId);
    console.log(`parley trace ${messageId}\n${printed}`);
    expect(printed).toMatch(/accepted[\s\S]*routed[\s\S]*enqueued[\s\S]*attempt[\s\S]*failed[\s\S]*took=[\s\S]*attempt[\s\S]*relayed[\s\S]*took=[\s\S]*relayed/);
    expect(r.alice.inbox.seen.filter((s) => s.is("message") && bodyOf(s).includes(tag))).toEqual([]); // delivered once
  });
});
