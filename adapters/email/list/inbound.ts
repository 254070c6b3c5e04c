/**
 * List mail in (issue 12 §5). Mail to a linked room's list address from a subscribed mailbox
 * becomes a room message; mail to `list+subscribe@` / `list+unsubscribe@` from an authenticated
 * sender changes the membership and is confirmed by mail. The listener has already refused what
 * every mail is refused for (bounds, loops, auto-replies and bounces, Parley's own mail, an
 * unproved or spoofed From under a strict policy); what is left here is the list's own rules:
 * a non-member gets 550 naming how to join, nothing is acknowledged before the room has it.
 */
import type { AdapterContext } from "../../../src/adapter/contract.js";
import { isParleyError } from "../../../src/errors/parley-error.js";
import type { Endpoint } from "../../../src/model/address.js";
import { newCanonicalId } from "../../../src/model/ids.js";
import type { Part } from "../../../src/model/message.js";
import { RoomMessageSchema } from "../../../src/model/room-events.js";
import { NEUTRAL_METHOD, type SenderVerdict } from "../auth.js";
import { EMAIL } from "../address.js";
import { reply, replyForParleyCode, type SmtpReply } from "../errors.js";
import { headerSafe } from "../headers.js";
import { replyForMediaError } from "../media.js";
import type { ParsedEmail } from "../parse.js";
import { commandAddress, type ListTarget } from "./address.js";
import type { ListMembers } from "./members.js";

const OK: SmtpReply = reply(250, "2.0.0", "OK");

export interface ListInboundDeps {
  readonly ctx: AdapterContext;
  readonly members: ListMembers;
  /** Send the member a short confirmation from the list (subscribed, unsubscribed). */
  readonly confirm: (list: string, to: string, text: string) => Promise<void>;
}

/** What the generic inbound path already worked out for this mail. */
export interface ListMail {
  readonly parsed: ParsedEmail;
  readonly verdict: SenderVerdict;
  readonly from: Endpoint;
  readonly hops: number;
  readonly parts: () => Promise<Part[]>;
}

/** `[team] Re: lunch` → `Re: lunch`: the list's own tag is noise in a room. */
function subjectOf(subject: string | undefined, list: string): string | undefined {
  if (!subject) return undefined;
  const name = list.slice(0, list.lastIndexOf("@"));
  const clean = headerSafe(subject.replace(new RegExp(`\\[${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\]\\s*`, "i"), ""), 1000);
  return clean || undefined;
}

export class ListInbound {
  constructor(private readonly d: ListInboundDeps) {}

  async receive(target: ListTarget, mail: ListMail): Promise<SmtpReply> {
    if (target.action === "post") return this.post(target.list, mail);
    if (!mail.verdict.trusted) return reply(550, "5.7.1", `Subscription changes need an authenticated sender (SPF or DKIM aligned with ${mail.from.address})`);
    const address = mail.from.address;
    if (target.action === "subscribe") {
      const r = await this.d.members.add(target.list, address);
      if (r === "full") return reply(552, "5.2.2", `The list ${target.list} is full`);
      if (r === "added") await this.d.confirm(target.list, address, `You are now subscribed to ${target.list}. Mail to ${target.list} goes to the room; to leave, write to ${commandAddress(target.list, "unsubscribe")}.`);
    } else {
      const r = await this.d.members.remove(target.list, address);
      if (r === "removed") await this.d.confirm(target.list, address, `You are no longer subscribed to ${target.list}. To join again, write to ${commandAddress(target.list, "subscribe")}.`);
    }
    this.d.ctx.log.info({ list: target.list, action: target.action }, "list membership changed by mail");
    return OK;
  }

  private async post(list: string, mail: ListMail): Promise<SmtpReply> {
    const ctx = this.d.ctx;
    if (!(await this.d.members.has(list, mail.from.address))) {
      ctx.log.info({ list }, "refused: list mail from a non-member");
      return reply(550, "5.7.1", `${mail.from.address} is not a member of ${list}; to join, write to ${commandAddress(list, "subscribe")}`);
    }
    const p = mail.parsed;
    const inReplyTo = p.inReplyTo ? await ctx.ids.canonicalFor({ network: EMAIL, kind: "message-id", id: p.inReplyTo }) : undefined;
    const subject = subjectOf(p.subject, list);
    let parts: Part[];
    try {
      parts = await mail.parts();
    } catch (e) {
      if (!isParleyError(e)) throw e;
      return replyForMediaError(e);
    }
    const message = RoomMessageSchema.parse({
      id: newCanonicalId(),
      nativeIds: p.messageId ? [{ network: EMAIL, kind: "message-id", id: p.messageId, scope: list }] : [],
      from: mail.from,
      authenticatedBy: mail.verdict.trusted ? { method: NEUTRAL_METHOD[mail.verdict.method], detail: mail.verdict.detail } : { method: "none", detail: mail.verdict.detail },
      ...(p.fromName && mail.verdict.trusted ? { displayName: headerSafe(p.fromName, 150) } : {}),
      sentAt: (p.date ?? new Date()).toISOString(),
      ...(subject ? { subject: { [p.lang ?? "und"]: subject } } : {}),
      kind: "chat",
      ...(inReplyTo ? { inReplyTo } : {}),
      ...(p.lang ? { lang: p.lang } : {}),
      parts,
      hops: mail.hops,
    });
    let result;
    try {
      [result] = await ctx.accept([{ kind: "room", room: { network: EMAIL, id: list }, activity: { type: "message", message } }]);
    } catch (e) {
      return replyForParleyCode(isParleyError(e) ? e.code : "PARLEY_UNAVAILABLE");
    }
    if (result?.status === "refused") return replyForParleyCode(result.error.code, result.error.message);
    if (result?.status === "accepted" && p.messageId) await ctx.ids.link(message.id, { network: EMAIL, kind: "message-id", id: p.messageId });
    ctx.log.info({ list, messageId: message.id, status: result?.status }, "list mail posted to the room");
    return OK;
  }
}
