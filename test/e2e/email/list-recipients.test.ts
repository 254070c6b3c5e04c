/**
 * Issue 12, bad input: "a list mail with 500 recipients" — a member's mail To the list with 499
 * more addresses in Cc (200 chat users bridged by Parley, 299 mailboxes Postfix keeps itself).
 *
 * The bounded answer, in SMTP's own words: a transaction holds at most `limits.maxRecipients` (50)
 * recipients, and a list takes its mail in a transaction of its own; every other RCPT gets
 * `452 4.5.3`, which tells the sending MTA to send those recipients again in another transaction
 * (RFC 5321 §4.5.3.1.10), and a mailbox that is not Parley's gets `550 5.1.1`. Through the real
 * Postfix, in the end: the list posts the mail to the room once, each chat user gets it once, each
 * mailbox once, and nothing is refused for good.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { asNetworkId, canonicalAddress } from "../../../src/model/address.js";
import type { CanonicalEvent } from "../../../src/model/events.js";
import { linkedRoomKey } from "../../../src/model/room.js";
import { RoomDirectory } from "../../../src/mappings/room-directory.js";
import { ListMembers } from "../../../adapters/email/list/members.js";
import { mtaCoordinates } from "../../harness/mta/inject.js";
import { readMaildir } from "../../harness/mta/maildir.js";
import { smtpSend } from "../../harness/mta/smtp-client.js";
import { composeMail, emailMappings, mailboxSigner, startAdapter } from "./support.js";

const mta = mtaCoordinates();
const inbox = mta.maildirs["example.org"]!;
const STAMP = Date.now().toString(36);
// In the chat users' own mail domain: Postfix then sends the list and them to Parley in the same deliveries.
const LIST = `crowd-${STAMP}@chat.example.org`;
const carol = `carol-${STAMP}@example.org`;
const chatUsers = Array.from({ length: 200 }, (_, i) => `u${i}-${STAMP}@chat.example.org`);
const mailboxes = Array.from({ length: 299 }, (_, i) => `m${i}-${STAMP}@example.org`);

let s: Awaited<ReturnType<typeof startAdapter>>;

/** Carol's mail: To the list, Cc 499 others (one address a line), DKIM-signed by example.org. */
function crowdMail(text: string, cc: readonly string[]) {
  return composeMail({ from: `Carol <${carol}>`, to: LIST, subject: "to everyone", text, extraHeaders: [`Cc: ${cc.join(",\r\n ")}`], sign: mailboxSigner("example.org") });
}

const roomPosts = (text: string) => s.ctx.accepted.filter((e) => e.kind === "room" && e.activity.type === "message" && e.activity.message.parts.some((p) => p.role === "text" && p.body.includes(text)));
const chatMessages = (text: string) => s.ctx.accepted.filter((e): e is Extract<CanonicalEvent, { kind: "message" }> => e.kind === "message" && e.message.parts.some((p) => p.role === "text" && p.body.includes(text)));

async function until(ok: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  const [xmpp, email] = [asNetworkId("xmpp"), asNetworkId("email")];
  const link = {
    key: linkedRoomKey("crowd"), origin: "linked" as const, name: "crowd", home: xmpp, address: canonicalAddress("crowd@conference.chat.example.org"),
    natives: new Map([[xmpp, { network: xmpp, id: "crowd@conference.chat.example.org" }], [email, { network: email, id: LIST }]]), source: { file: "<test>", line: 0 },
  };
  s = await startAdapter(mta, {}, { ...emailMappings(), rooms: new RoomDirectory([link]) });
  await new ListMembers(s.ctx.state).add(LIST, carol);
}, 60_000);

afterAll(async () => { await s?.adapter.stop(); });

describe("a list mail with 500 recipients", () => {
  it("straight to Parley: the list alone in its transaction, at most 50 recipients, 452 for the rest, 550 for mailboxes not Parley's", async () => {
    const cc = [...chatUsers.slice(0, 100), ...mailboxes.slice(0, 399 - 100)];
    const raw = await crowdMail("direct crowd mail", [...cc, ...chatUsers.slice(100)]);
    // The list first: it is taken alone, everyone after it is told to come back in another transaction.
    const listFirst = await smtpSend(mta.parleyPort, { from: carol, to: [LIST, ...chatUsers, ...mailboxes] }, raw);
    expect(listFirst.rcpt[0]).toBe(250);
    expect(new Set(listFirst.rcpt.slice(1))).toEqual(new Set([452]));
    expect(listFirst.final).toBe(250);
    // The list in the middle: 50 chat users taken, the mailboxes refused, the list and the rest deferred.
    const middle = [...mailboxes.slice(0, 40), ...chatUsers.slice(0, 60), LIST, ...chatUsers.slice(60), ...mailboxes.slice(40)];
    const r = await smtpSend(mta.parleyPort, { from: carol, to: middle }, raw);
    expect(r.rcpt).toHaveLength(500);
    expect(r.rcpt.slice(0, 40)).toEqual(Array(40).fill(550)); // mailboxes are not Parley's to serve
    expect(r.rcpt.slice(40, 90)).toEqual(Array(50).fill(250));
    expect(r.rcpt.filter((c) => c === 250)).toHaveLength(50);
    expect(r.rcpt[100]).toBe(452); // the list
    expect(new Set(r.rcpt.slice(90))).toEqual(new Set([452]));
    expect(r.final).toBe(250);
    await until(() => roomPosts("direct crowd mail").length === 1 && chatMessages("direct crowd mail").length === 50, 30_000, "the direct post and 50 chat messages");
    expect(roomPosts("direct crowd mail")).toHaveLength(1);
  });

  it("through the real Postfix: posted to the room once, each of 200 chat users and 299 mailboxes gets it once, nothing refused", async () => {
    const cc = [...chatUsers.slice(0, 100), ...mailboxes, ...chatUsers.slice(100)];
    const raw = await crowdMail("crowd mail via postfix", cc);
    const started = Date.now();
    // The list in the middle of the envelope, as a mail client that lists To and Cc in order would not; harder for the MTA.
    const envelope = [...chatUsers.slice(0, 100), LIST, ...mailboxes, ...chatUsers.slice(100)];
    const sent = await smtpSend(mta.smtpPort, { from: carol, to: envelope }, raw);
    expect(sent.rcpt.every((c) => c === 250)).toBe(true);
    expect(sent.final).toBe(250);
    const delivered = () => readMaildir(inbox).filter((m) => m.raw.includes("crowd mail via postfix"));
    await until(() => roomPosts("crowd mail via postfix").length >= 1 && chatMessages("crowd mail via postfix").length >= 200 && delivered().length >= 299, 120_000, "every recipient");
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.log(`list mail with 500 recipients through Postfix: all delivered in ${seconds} s`);
    // What Postfix logged for this mail's recipients at Parley: the 452s it retried, and how often.
    const log = readFileSync(`${mta.workDir}/maillog`, "utf8").split("\n").filter((l) => l.includes(STAMP) && l.includes("chat.example.org>"));
    const deferred = log.filter((l) => l.includes("status=deferred"));
    console.log(`Postfix: ${log.filter((l) => l.includes("status=sent")).length} recipients sent to Parley, ${deferred.length} deferrals (452), ${deferred.filter((l) => l.includes("Too many recipients")).length} of them for the 50-recipient cap; list: ${log.filter((l) => l.includes(LIST)).map((l) => /status=\w+/.exec(l)?.[0]).join(", ")}`);
    expect(log.filter((l) => /status=(bounced|expired)/.test(l))).toEqual([]);
    // Wait a little more for anything sent twice: Postfix retries only what was not taken.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(roomPosts("crowd mail via postfix")).toHaveLength(1);
    const to = chatMessages("crowd mail via postfix").map((e) => e.message.to.address).sort();
    expect(to).toEqual([...chatUsers].map((a) => canonicalAddress(a)).sort());
    const copies = delivered().map((m) => m.header("delivered-to")).sort();
    expect(copies).toEqual([...mailboxes].sort());
    // Nothing bounced back to carol.
    expect(readMaildir(inbox).filter((m) => m.header("delivered-to") === carol)).toHaveLength(0);
  }, 180_000);
});
