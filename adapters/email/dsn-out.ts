/** Sending a failure DSN for a message Parley accepted from a mailbox (issue 5 §5; RFC 3464). */
import type { AdapterStateStore } from "../../src/adapter/state.js";
import type { DeliveryStatus } from "../../src/model/delivery-status.js";
import type { Logger } from "../../src/log/logger.js";
import type { EmailConfig } from "./config.js";
import { composeFailureDsn } from "./dsn.js";
import type { InboundRecord } from "./inbound.js";
import type { MailSender } from "./outbound.js";

export interface DsnOutDeps {
  readonly config: EmailConfig;
  readonly store: AdapterStateStore;
  readonly sender: MailSender;
  readonly log: Logger;
}

/** Resolves true when a DSN was sent, false when policy says none (unknown, unaligned, null sender). */
export async function sendFailureDsn(status: DeliveryStatus, d: DsnOutDeps): Promise<boolean> {
  const raw = await d.store.get(`in:${status.messageId}`);
  if (raw === undefined) return false;
  const rec = JSON.parse(raw) as InboundRecord;
  // No backscatter (RFC 3834 §2, RFC 2779 T-5.4.1): only aligned senders, never to the null sender.
  if (!rec.aligned || rec.mailFrom === "") {
    d.log.info({ messageId: status.messageId, aligned: rec.aligned }, "failure not reported by DSN: sender not aligned");
    return false;
  }
  if (!(await d.store.setIfAbsent(`dsn:${status.messageId}`, "1", 30 * 24 * 3600))) return false; // once
  const domain = d.config.bounceAddress.slice(d.config.bounceAddress.lastIndexOf("@") + 1);
  const dsn = composeFailureDsn({
    reportingMta: d.config.hostname, postmaster: `mailer-daemon@${domain}`, to: rec.mailFrom, finalRecipient: rec.rcpt,
    reason: status.reason ?? "unavailable", text: status.text ?? "The message could not be delivered.",
    original: { messageId: rec.messageId, subject: rec.subject, from: rec.from }, arrival: new Date(status.at),
  });
  try {
    // RFC 5321 §4.5.5: a DSN is sent from the null reverse-path.
    await d.sender.send({ envelope: { from: "", to: [rec.mailFrom] }, raw: dsn }, domain, rec.mailFrom);
  } catch (e) {
    await d.store.delete(`dsn:${status.messageId}`);
    throw e;
  }
  d.log.info({ messageId: status.messageId }, "failure DSN sent");
  return true;
}
