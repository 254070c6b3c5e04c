/**
 * A DSN (RFC 3464) at Parley's bounce address (issue 5 §5): the report on a message Parley sent,
 * matched by its VERP address or its Message-ID, turned into a delivery status for the sender.
 */
import type { AdapterContext } from "../../src/adapter/contract.js";
import type { CanonicalEvent } from "../../src/model/events.js";
import type { Message } from "../../src/model/message.js";
import { isParleyError } from "../../src/errors/parley-error.js";
import { EMAIL_EXT } from "./address.js";
import { parseDsn, stateOfAction } from "./dsn.js";
import { replyForParleyCode, reply, type SmtpReply } from "./errors.js";
import { outboundRecord } from "./outbound.js";
import { canonicalIdInMessageId } from "./threads.js";

const OK: SmtpReply = reply(250, "2.0.0", "OK");

/**
 * `verpId`: the canonical id in the bounce address the DSN came to, if any. Always 250 once
 * understood or unmatchable; "try later" only when the core cannot store the status.
 */
export async function acceptDsn(ctx: AdapterContext, raw: Buffer, verpId: string | undefined): Promise<SmtpReply> {
  const report = await parseDsn(raw);
  const id = verpId ?? (report?.originalMessageId ? canonicalIdInMessageId(report.originalMessageId) : undefined);
  const record = id ? await outboundRecord(ctx.state, id) : undefined;
  if (!report || !record || !id) {
    ctx.log.info({ dsn: !!report, matched: !!record }, "bounce address: nothing to report");
    return OK;
  }
  const events: CanonicalEvent[] = [];
  for (const r of report.recipients) {
    const s = stateOfAction(r);
    if (!s) continue;
    events.push({
      kind: "delivery-status",
      status: {
        messageId: id as Message["id"], sender: record.from, recipient: record.to, state: s.state,
        ...(s.reason ? { reason: s.reason } : {}),
        text: s.state === "failed" ? `Mail to ${record.to.address} bounced: ${r.status ?? ""} ${r.diagnostic ?? ""}`.trim().slice(0, 1024) : `Delivered to ${record.to.address}`,
        at: new Date().toISOString(),
        extensions: { [EMAIL_EXT]: { payload: { status: r.status, diagnostic: r.diagnostic } } },
      },
    });
    break; // one recipient per message: the first final action decides
  }
  if (events.length === 0) return OK;
  try {
    await ctx.accept(events);
  } catch (e) {
    return replyForParleyCode(isParleyError(e) ? e.code : "PARLEY_UNAVAILABLE");
  }
  ctx.log.info({ messageId: id }, "DSN turned into a delivery status");
  return OK;
}
