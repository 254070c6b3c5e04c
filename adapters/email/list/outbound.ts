/**
 * Room activity out to a list (issue 12 §5): a member's message becomes one mail to the list's
 * subscribed mailboxes — `From` the sender's own puppet address and name (never the list), `To`
 * the list address, List-* header fields (RFC 2369, RFC 2919), one thread per room
 * (`In-Reply-To`/`References`), DKIM-signed when a key covers the From domain. Recipients go in
 * envelope batches; a batch the relay took is marked sent, so a retry sends only the rest.
 * With one-click unsubscribe (RFC 8058) each member gets a copy of their own with their own link.
 * A new subject is kept for the next mails' `Subject:`; joins and leaves send nothing. A reaction
 * is a short notice mail when `reactionNotices` is on, else nothing; a retraction is nothing.
 */
import type { DeliveryOutcome } from "../../../src/adapter/contract.js";
import { errorMessage } from "../../../src/errors/message.js";
import { canonicalAddress } from "../../../src/model/address.js";
import { plainText } from "../../../src/model/message.js";
import type { RoomDelivery, RoomMessage } from "../../../src/model/room-events.js";
import { EMAIL, toNative } from "../address.js";
import { headerSafe, textToHtml } from "../headers.js";
import { outboundFiles } from "../media.js";
import { verpAddress, type MailSender, type OutboundDeps } from "../outbound.js";
import { extendThread, loadThread, messageIdFor } from "../threads.js";
import { listHeaders } from "./address.js";
import { asRoomReactionNotice } from "../reactions.js";
import { memberKey, type ListMembers } from "./members.js";
import { oneClickHeaders, type OneClick } from "./one-click.js";

/** Envelope recipients per SMTP transaction (Postfix takes 1,000; many relays fewer). */
export const LIST_BATCH = 50;
const MARKER_TTL_SECONDS = 7 * 24 * 3600;
/** Marks a list mail Parley sent, so its return (a member's auto-forward) is known by id. */
export const LIST_OUT_PREFIX = "list-out:";

/** What the list mailer shares with the one-to-one mailer, plus the members and the SMTP sender. */
export interface ListOutboundDeps extends Pick<OutboundDeps, "config" | "store" | "ids" | "mappings" | "blobs" | "media" | "log"> {
  readonly members: ListMembers;
  readonly sender: MailSender;
  /** RFC 8058 one-click: each member's copy gets its own signed link (one mail per member). */
  readonly oneClick?: OneClick | undefined;
}

/** Recipients in envelope batches of one domain each (an MX serves one domain), stable for a member list. */
export function batches(members: readonly string[]): string[][] {
  const byDomain = new Map<string, string[]>();
  for (const m of members) {
    const domain = m.slice(m.lastIndexOf("@") + 1);
    const group = byDomain.get(domain) ?? [];
    group.push(m);
    byDomain.set(domain, group);
  }
  const out: string[][] = [];
  for (const domain of [...byDomain.keys()].sort()) {
    const all = byDomain.get(domain)!;
    for (let i = 0; i < all.length; i += LIST_BATCH) out.push(all.slice(i, i + LIST_BATCH));
  }
  return out;
}

function linkName(key: string): string {
  return key.startsWith("link:") ? key.slice(5) : key;
}

export class ListOutbound {
  constructor(private readonly d: ListOutboundDeps) {}

  async deliver(delivery: RoomDelivery): Promise<DeliveryOutcome> {
    const { activity, target } = delivery;
    if (activity.type === "subject") {
      await this.d.store.set(`list-subject:${target.id.toLowerCase()}`, headerSafe(activity.subject.subject, 200));
      return { state: "relayed", nativeIds: [] };
    }
    if (activity.type === "membership" || activity.type === "displayed") return { state: "relayed", nativeIds: [] };
    const m = activity.message;
    // Mail has no reactions or retractions (issue 18): a reaction is a notice mail only when the
    // admin turned reactionNotices on; anything else of the kind is dropped, and said so.
    if (m.retracts !== undefined || (m.reaction !== undefined && !this.d.config.reactionNotices)) {
      const feature = m.retracts !== undefined ? "retractions" : "reactions";
      this.d.log.info({ event: "feature-dropped", messageId: m.id, feature, network: EMAIL, list: target.id, from: m.from.address }, `email cannot show ${feature} in a list: dropped`);
      return { state: "relayed", nativeIds: [] };
    }
    return this.post(linkName(delivery.room.key), target.id, asRoomReactionNotice(m));
  }

  private async post(name: string, list: string, m: RoomMessage): Promise<DeliveryOutcome> {
    const fromAddress = toNative(m.from, this.d.mappings());
    const fromDomain = fromAddress.slice(fromAddress.lastIndexOf("@") + 1);
    // Signed for the From domain when a key covers it, else for the list's (a member's own mail
    // then still carries a valid signature over the List-* fields, as RFC 8058 §4 wants).
    const listDomain = list.slice(list.lastIndexOf("@") + 1);
    const signDomain = this.d.sender.canSign(fromDomain) || !this.d.sender.canSign(listDomain) ? fromDomain : listDomain;
    // A member's own mail keeps its Message-ID, so every member's client threads the same message.
    const own = m.from.network === EMAIL ? m.nativeIds.find((n) => n.network === EMAIL && n.kind === "message-id")?.id : undefined;
    const messageId = own ?? messageIdFor(m.id, fromDomain);
    const native = { network: EMAIL, kind: "message-id", id: messageId };
    const thread = await loadThread(this.d.store, list, list);
    const inReplyTo = (m.inReplyTo && (await this.d.ids.nativeFor(m.inReplyTo, EMAIL, "message-id"))?.id) ?? thread?.refs.at(-1);
    const references = [...(thread?.refs ?? []).filter((r) => r !== inReplyTo), ...(inReplyTo ? [inReplyTo] : [])];
    const topic = (await this.d.store.get(`list-subject:${list.toLowerCase()}`)) ?? name;
    const subject = headerSafe(`${thread ? "Re: " : ""}[${name}] ${topic}`, 250);
    const files = await outboundFiles(this.d.media, this.d.blobs, { ...m, to: { address: canonicalAddress(list), network: EMAIL } }); // limits, links
    const text = [`${m.replaces ? "(correction) " : ""}${plainText(m) || (files.attachments.length > 0 ? "" : "(no text)")}`, ...files.notes].filter((l) => l !== "").join("\n\n");
    const mail = {
      from: { name: headerSafe(m.displayName ?? m.from.address, 120), address: fromAddress },
      to: { name, address: list },
      subject,
      messageId,
      date: new Date(m.sentAt),
      text,
      html: m.replaces ? textToHtml(text) : (m.parts.find((p) => p.role === "html")?.body ?? textToHtml(text)),
      attachments: files.attachments,
      headers: {
        ...listHeaders(list, name),
        Sender: list,
        "X-Parley-Id": m.id,
        "X-Parley-Hops": String(m.hops),
        ...(m.lang ? { "Content-Language": headerSafe(m.lang) } : {}),
      },
      ...(inReplyTo ? { inReplyTo } : {}),
      ...(references.length ? { references } : {}),
    };
    await this.d.store.set(`${LIST_OUT_PREFIX}${m.id}`, list, MARKER_TTL_SECONDS);
    // A member's own list mail goes to the other members only.
    const author = m.from.network === EMAIL ? memberKey(m.from.address) : undefined;
    const members = (await this.d.members.all(list)).filter((a) => a !== author);
    const envelopeFrom = verpAddress(this.d.config.bounceAddress, m.id);
    const oneClick = this.d.oneClick;
    for (const [i, batch] of batches(members).entries()) {
      const marker = `list-sent:${m.id}:${i}`;
      if (await this.d.store.get(marker)) continue;
      if (!oneClick) {
        await this.d.sender.send({ ...mail, envelope: { from: envelopeFrom, to: batch } }, signDomain, batch[0]!);
      } else {
        // One copy per member, each with its own one-click link, over one connection; how far the
        // batch got is kept on a failure, so a retry sends only the rest.
        const progress = `${marker}:n`;
        let done = Number((await this.d.store.get(progress)) ?? 0);
        const copies = batch.map((to) => ({ ...mail, headers: { ...mail.headers, ...oneClickHeaders(oneClick, list, to) }, envelope: { from: envelopeFrom, to: [to] } }));
        try {
          await this.d.sender.sendEach(copies, signDomain, batch[0]!, done, (k) => { done = k + 1; return Promise.resolve(); },
            (k, e) => this.d.log.warn({ messageId: m.id, list, err: errorMessage(e), member: k }, "a list member's copy was refused for good: skipped"));
        } catch (e) {
          await this.d.store.set(progress, String(done), MARKER_TTL_SECONDS);
          throw e;
        }
      }
      await this.d.store.set(marker, "1", MARKER_TTL_SECONDS);
    }
    await extendThread(this.d.store, list, list, messageId, topic);
    this.d.log.info({ messageId: m.id, list, members: members.length }, "room message relayed to the list");
    return { state: "relayed", nativeIds: [native] };
  }
}
