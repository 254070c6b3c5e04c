/**
 * Delivery status notifications (RFC 3464) in both directions (issue 5 §5).
 *  - In: a `multipart/report; report-type=delivery-status` arriving at the VERP bounce address is
 *    matched to the canonical message (VERP first, then the original Message-ID) and becomes a
 *    `delivered` or `failed` status for the original sender on their network.
 *  - Out: when a message Parley answered 250 for fails later, the sender gets a DSN from the null
 *    sender (RFC 5321 §4.5.5), `Auto-Submitted: auto-replied` (RFC 3834 §5), only if SPF or DKIM
 *    aligned with their From (no backscatter to forged senders: RFC 2779 T-5.4.1).
 */
import { randomBytes } from "node:crypto";
import { simpleParser } from "mailparser";
import type { FailureReason } from "../../src/model/delivery-status.js";
import { reasonForStatus } from "./errors.js";
import { headerSafe } from "./headers.js";

export interface DsnRecipient {
  readonly finalRecipient: string | undefined;
  /** RFC 3464 §2.3.3: failed | delayed | delivered | relayed | expanded */
  readonly action: string;
  readonly status: string | undefined;
  readonly diagnostic: string | undefined;
}

export interface DsnReport {
  readonly recipients: readonly DsnRecipient[];
  readonly originalMessageId: string | undefined;
}

function fields(block: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of block.replace(/\r?\n[ \t]+/g, " ").split(/\r?\n/)) {
    const c = line.indexOf(":");
    if (c > 0) out.set(line.slice(0, c).trim().toLowerCase(), line.slice(c + 1).trim());
  }
  return out;
}

function addressOf(typed: string | undefined): string | undefined {
  return typed?.replace(/^[a-z0-9-]+;\s*/i, "").replace(/^<|>$/g, "").trim() || undefined;
}

/** The report inside a DSN, or undefined when the message is not one. */
export async function parseDsn(raw: Buffer): Promise<DsnReport | undefined> {
  const p = await simpleParser(raw, { keepDeliveryStatus: true, skipHtmlToText: true });
  const status = p.attachments.find((a) => /^message\/(global-)?delivery-status$/i.test(a.contentType));
  if (!status) return undefined;
  const blocks = status.content.toString("utf8").split(/\r?\n\s*\r?\n/).filter((b) => b.trim());
  const recipients: DsnRecipient[] = [];
  for (const b of blocks.slice(1)) {
    const f = fields(b);
    const action = f.get("action")?.toLowerCase();
    if (!action) continue;
    recipients.push({
      finalRecipient: addressOf(f.get("final-recipient") ?? f.get("original-recipient")),
      action, status: /^[245]\.\d{1,3}\.\d{1,3}/.exec(f.get("status") ?? "")?.[0], diagnostic: f.get("diagnostic-code")?.slice(0, 300),
    });
  }
  const original = p.attachments.find((a) => /^(text\/rfc822-headers|message\/(rfc822|global|global-headers))$/i.test(a.contentType));
  const originalMessageId = original ? /^message-id:\s*(<[^>\s]+>)/im.exec(original.content.toString("latin1"))?.[1] : undefined;
  return { recipients, originalMessageId };
}

/** What a DSN recipient block means for the original sender. */
export function stateOfAction(r: DsnRecipient): { state: "delivered" | "failed"; reason?: FailureReason } | undefined {
  if (r.action === "failed") return { state: "failed", reason: reasonForStatus(r.status) };
  if (r.action === "delivered") return { state: "delivered" };
  return undefined; // delayed: not final; relayed/expanded: no end-to-end proof
}

const STATUS_FOR_REASON: Record<FailureReason, string> = {
  "recipient-unknown": "5.1.1", "refused-by-policy": "5.7.1", unavailable: "5.4.1", timeout: "5.4.7",
  "too-large": "5.3.4", unsupported: "5.6.0", "loop-detected": "5.4.6", "rate-limited": "5.7.1",
  "bad-request": "5.6.0", internal: "5.3.0",
};

export interface DsnInput {
  readonly reportingMta: string;
  readonly postmaster: string;
  /** The original sender (the envelope return path of the message that failed). */
  readonly to: string;
  /** The recipient as the sender addressed it. */
  readonly finalRecipient: string;
  readonly reason: FailureReason;
  readonly text: string;
  readonly original: { readonly messageId?: string | undefined; readonly subject?: string | undefined; readonly from?: string | undefined; readonly date?: string | undefined };
  readonly arrival: Date;
}

/** Compose an RFC 3464 failure report (RFC 6522 multipart/report). */
export function composeFailureDsn(d: DsnInput): string {
  const boundary = `parley-dsn-${randomBytes(8).toString("hex")}`;
  const status = STATUS_FOR_REASON[d.reason];
  const text = headerSafe(d.text, 300);
  const orig = d.original;
  const headers = [
    orig.messageId ? `Message-ID: ${headerSafe(orig.messageId, 250)}` : undefined,
    orig.from ? `From: <${headerSafe(orig.from, 250)}>` : undefined,
    `To: <${headerSafe(d.finalRecipient, 250)}>`,
    orig.date ? `Date: ${headerSafe(orig.date, 60)}` : undefined,
  ].filter((h): h is string => h !== undefined);
  return [
    `From: Mail Delivery System <${d.postmaster}>`,
    `To: <${d.to}>`,
    `Subject: Undelivered message${orig.subject ? `: ${headerSafe(orig.subject, 150).replace(/[^\x20-\x7e]/g, "?")}` : ""}`,
    `Date: ${new Date().toUTCString()}`,
    `Message-ID: <dsn-${randomBytes(12).toString("hex")}@${d.reportingMta}>`,
    "Auto-Submitted: auto-replied",
    "MIME-Version: 1.0",
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`,
    "",
    `--${boundary}`,
    "Content-Type: text/plain; charset=utf-8",
    "",
    `Your message to ${d.finalRecipient} could not be delivered.`,
    "",
    `Reason: ${text}`,
    "",
    `--${boundary}`,
    "Content-Type: message/delivery-status",
    "",
    `Reporting-MTA: dns; ${d.reportingMta}`,
    `Arrival-Date: ${d.arrival.toUTCString()}`,
    "",
    `Final-Recipient: rfc822; ${d.finalRecipient}`,
    "Action: failed",
    `Status: ${status}`,
    `Diagnostic-Code: x-parley; ${text}`,
    "",
    `--${boundary}`,
    "Content-Type: text/rfc822-headers",
    "",
    ...headers,
    "",
    `--${boundary}--`,
    "",
  ].join("\r\n");
}
