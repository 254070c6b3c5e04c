/**
 * Delivery status both ways (issue 5 §5; RFC 2779 T-4.2.1, T-5.4.1): a bounce from the real Postfix
 * becomes a failed status for the chat sender; a failure after Parley answered 250 goes back to an
 * aligned mail sender as an RFC 3464 DSN from the null sender, and to nobody when unaligned.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { simpleParser } from "mailparser";
import type { CanonicalEvent, DeliveryStatusEvent, MessageEvent } from "../../../src/model/events.js";
import type { AcceptResult } from "../../../src/adapter/contract.js";
import { ParleyError } from "../../../src/errors/parley-error.js";
import { MessageSchema, plainText } from "../../../src/model/message.js";
import { newCanonicalId } from "../../../src/model/ids.js";
import { endpoint } from "../../../src/model/address.js";
import { parseDsn } from "../../../adapters/email/dsn.js";
import { mtaCoordinates } from "../../harness/mta/inject.js";
import { readMaildir, waitForMail } from "../../harness/mta/maildir.js";
import { smtpSend } from "../../harness/mta/smtp-client.js";
import { alice, composeMail, mailboxSigner, startAdapter } from "./support.js";

const mta = mtaCoordinates();
const inbox = mta.maildirs["example.org"]!;

describe("email delivery status", () => {
  let s: Awaited<ReturnType<typeof startAdapter>>;
  beforeAll(async () => { s = await startAdapter(mta); });
  afterAll(async () => { await s.adapter.stop(); });

  it("T-4.2.1 T-5.4.1 a bounce for a bridged message becomes a failed status at the original sender", async () => {
    const m = MessageSchema.parse({ id: newCanonicalId(), from: alice, to: endpoint("ghost@nobody.example.org", "email"), authenticatedBy: { method: "network" }, sentAt: new Date().toISOString(), parts: [{ role: "text", body: "anyone there?" }] });
    expect((await s.adapter.deliverMessage(m)).state).toBe("relayed");
    const ev = await s.ctx.waitForAccepted((e): e is DeliveryStatusEvent => e.kind === "delivery-status" && e.status.messageId === m.id, 20_000);
    expect(ev.status.state).toBe("failed");
    expect(ev.status.reason).toBe("recipient-unknown");
    expect(ev.status.sender).toEqual(alice);
    expect(ev.status.recipient).toEqual(m.to);
    expect(ev.status.text).toMatch(/5\.1\.1/);
  });

  async function acceptFrom(fromHeader: string, mailFrom: string, sign: boolean) {
    const text = `dsn ${newCanonicalId()}`;
    const raw = await composeMail({ from: fromHeader, to: "alice@chat.example.org", text, ...(sign ? { sign: mailboxSigner(fromHeader.split("@")[1]!) } : {}) });
    const r = await smtpSend(s.adapter.port, { from: mailFrom, to: ["alice@chat.example.org"] }, raw);
    expect(r.final).toBe(250);
    return s.ctx.waitForAccepted((e): e is MessageEvent => e.kind === "message" && plainText(e.message).includes(text));
  }

  it("T-5.4.1 a failure after the 250 goes back to an aligned sender as a DSN from the null sender", async () => {
    const local = `zoe-${Date.now()}`;
    const ev = await acceptFrom(`${local}@example.org`, `${local}@example.org`, true);
    await s.adapter.deliverStatus({ messageId: ev.message.id, sender: ev.message.from, recipient: ev.message.to, state: "failed", reason: "recipient-unknown", text: "alice is unknown", at: new Date().toISOString(), extensions: {} });
    const dsn = await waitForMail(inbox, (m) => m.header("Delivered-To") === `${local}@example.org`);
    expect(dsn.header("Return-Path")).toBe("<>");
    expect(dsn.header("Auto-Submitted")).toBe("auto-replied");
    const report = await parseDsn(dsn.raw);
    expect(report?.recipients[0]).toMatchObject({ action: "failed", status: "5.1.1", finalRecipient: "alice@chat.example.org" });
    expect((await simpleParser(dsn.raw)).text).toContain("alice is unknown");
    // Once only.
    await s.adapter.deliverStatus({ messageId: ev.message.id, sender: ev.message.from, recipient: ev.message.to, state: "failed", reason: "recipient-unknown", at: new Date().toISOString(), extensions: {} });
    expect(readMaildir(inbox).filter((m) => m.header("Delivered-To") === `${local}@example.org`)).toHaveLength(1);
  });

  it("T-5.4.1 one recipient refused by the core while another is accepted: 250, and a DSN for the refused one", async () => {
    const refuseMatrix = (e: CanonicalEvent): AcceptResult => (e.kind === "message" && e.message.to.network === "matrix" ? { status: "refused", error: new ParleyError("PARLEY_REFUSED") } : { status: "accepted" });
    const mixed = await startAdapter(mta, { listen: { host: "127.0.0.1", port: 0 } }, undefined, refuseMatrix);
    try {
      const local = `mix-${Date.now()}`;
      const raw = await composeMail({ from: `${local}@example.org`, to: "alice@chat.example.org", text: "to two", sign: mailboxSigner("example.org") });
      const r = await smtpSend(mixed.adapter.port, { from: `${local}@example.org`, to: ["alice@chat.example.org", "bob=matrix.example.org@matrix.gw.example.org"] }, raw);
      expect(r.final).toBe(250);
      const dsn = await waitForMail(inbox, (m) => m.header("Delivered-To") === `${local}@example.org`);
      const report = await parseDsn(dsn.raw);
      expect(report?.recipients[0]).toMatchObject({ action: "failed", status: "5.7.1", finalRecipient: "bob=matrix.example.org@matrix.gw.example.org" });
    } finally {
      await mixed.adapter.stop();
    }
  });

  it("T-5.4.1 no DSN to an unaligned (unverified) sender: no backscatter", async () => {
    const ev = await acceptFrom("someone@lenient.example", "someone@example.org", false);
    expect(ev.message.authenticatedBy.method).toBe("none");
    const before = readMaildir(inbox).length;
    await s.adapter.deliverStatus({ messageId: ev.message.id, sender: ev.message.from, recipient: ev.message.to, state: "failed", reason: "recipient-unknown", at: new Date().toISOString(), extensions: {} });
    expect(await s.ctx.state.get(`dsn:${ev.message.id}`)).toBeUndefined();
    expect(readMaildir(inbox).length).toBe(before);
  });
});
