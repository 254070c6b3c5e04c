/**
 * Files out to XMPP (issue 13): each attachment becomes a signed, expiring URL on Parley's media
 * listener, sent as XEP-0066 out-of-band data in a stanza of its own whose body is only the URL,
 * which is what XEP-0363 clients (Conversations, Gajim, Dino, Monal) render inline as an image, a
 * player or a download; text goes in a stanza before it (outbound.ts, messageStanzas).
 */
import { DeliveryError } from "../../../src/adapter/contract.js";
import type { AttachmentPart } from "../../../src/adapter/media.js";
import { domainOf } from "../../../src/model/address.js";
import type { Message } from "../../../src/model/message.js";
import { xml, type XmlElement } from "../connection.js";
import type { XmppRuntime } from "../stanza.js";
import { NS_OOB } from "./inbound.js";

export interface OutboundFile {
  readonly part: AttachmentPart;
  readonly url: string;
}

/**
 * The URL of every attachment of a message, after the recipient's limits (over a limit: a
 * permanent failure, which the sender is told in its own protocol). Without a media listener to
 * link to, none: the body then names each file instead (`placeholder`).
 */
export function filesFor(rt: XmppRuntime, m: Message): OutboundFile[] {
  return filesOf(rt, m, domainOf(m.to.address));
}

/** {@link filesFor} for a message to `domain`'s limits: a linked MUC room's service (muc/deliver.ts). */
export function filesOf(rt: XmppRuntime, m: Pick<Message, "id" | "parts">, domain: string): OutboundFile[] {
  const parts = m.parts.filter((p): p is AttachmentPart => p.role === "attachment");
  if (parts.length === 0) return [];
  const media = rt.ctx.media;
  const broken = media?.check(parts, { network: "xmpp", domain });
  if (broken) throw new DeliveryError("permanent", broken.info.reason, broken.message, { cause: broken });
  const files: OutboundFile[] = [];
  for (const part of parts) {
    const url = media?.publicUrl(part);
    if (url !== undefined) files.push({ part, url });
  }
  if (files.length < parts.length) rt.log.warn({ messageId: m.id }, "files sent as placeholders: media.listener is off");
  return files;
}

/** What the body says of a file Parley has no link for. */
export function placeholder(part: AttachmentPart): string {
  return `[attachment: ${part.filename ?? part.contentType}, ${part.size} bytes]`;
}

/** One stanza's body, and the file it links to (its OOB), if any. */
export interface FileBody {
  readonly body: string;
  readonly file?: OutboundFile;
}

/**
 * The bodies of a message with `files`: its text first (left out when empty, unless there is no
 * file to send), then one per file whose body is only the file's link — what clients show inline.
 */
export function fileBodies(text: string, files: readonly OutboundFile[]): FileBody[] {
  return [...(text !== "" || files.length === 0 ? [{ body: text }] : []), ...files.map((f) => ({ body: fileLine(f), file: f }))];
}

/** The body line of a file: its URL (clients show it inline when it is the whole body). */
export function fileLine(f: OutboundFile): string {
  return f.url;
}

/** XEP-0066 `<x xmlns='jabber:x:oob'>` for each file; `desc` carries the file name. */
export function oobElements(files: readonly OutboundFile[]): XmlElement[] {
  return files.map((f) => xml("x", { xmlns: NS_OOB }, xml("url", {}, f.url), ...(f.part.filename ? [xml("desc", {}, f.part.filename)] : [])));
}
