/**
 * Attachments both ways through the gateway's one blob store (issue 13). In: each MIME attachment
 * is stored with `ctx.media.store` (type checked against its magic bytes, dimensions read, the
 * sender's domain's limits applied); over a limit the MTA gets a 5xx naming it, so the sender
 * gets a DSN. Out: each attachment becomes a MIME part streamed from the store; a file over the
 * recipient's limit is replaced by a link to Parley's media listener, and the mail says so.
 */
import type { Readable } from "node:stream";
import type { Attachment as MailAttachment } from "nodemailer/lib/mailer";
import { DeliveryError } from "../../src/adapter/contract.js";
import type { AttachmentPart, MediaPort, MediaScope } from "../../src/adapter/media.js";
import { ParleyError } from "../../src/errors/parley-error.js";
import { domainOf, type Endpoint } from "../../src/model/address.js";
import type { Message } from "../../src/model/message.js";
import { EMAIL } from "./address.js";
import type { BlobStore } from "./blobs.js";
import { reply, type SmtpReply } from "./errors.js";
import { headerSafe } from "./headers.js";

/** A MIME attachment as the parser gives it. */
export interface MimeAttachment {
  readonly content: Buffer;
  readonly contentType: string;
  readonly filename?: string | undefined;
}

/** RFC 2779 5.4.9: the name under which a signed mail travels to chat as a file. */
export const SIGNED_MAIL_FILENAME = "signed-message.eml";
const DETACHED_SIGNATURE = /^application\/(x-)?(pkcs7-signature|pgp-signature)$/i;

/**
 * The files a mail carries to chat. A signed mail (RFC 1847 multipart/signed: S/MIME or
 * PGP/MIME) goes whole, byte for byte as received, as one `message/rfc822` file: the signed part
 * and its detached signature only verify together, over the exact bytes, and a mail client
 * opening the `.eml` (or `openssl cms -verify`, `gpg --verify` on its parts) checks it. The lone
 * detached signature is then left out: without the signed bytes it proves nothing.
 */
export function filesToCarry(raw: Buffer, security: "signed" | "encrypted" | undefined, files: readonly MimeAttachment[]): MimeAttachment[] {
  if (security !== "signed") return [...files];
  return [...files.filter((a) => !DETACHED_SIGNATURE.test(a.contentType)), { content: raw, contentType: "message/rfc822", filename: SIGNED_MAIL_FILENAME }];
}

function inboundScope(from: Endpoint): MediaScope {
  return { network: EMAIL, domain: domainOf(from.address) };
}

/** The SMTP answer to a file the store refused: the sender's MTA turns a 5xx into a DSN. */
export function replyForMediaError(e: ParleyError): SmtpReply {
  if (e.code === "PARLEY_TOO_LARGE") return reply(552, "5.3.4", `Attachment too big for chat: ${e.message}`);
  if (e.code === "PARLEY_UNSUPPORTED") return reply(554, "5.6.1", `Attachment not accepted: ${e.message}`);
  return reply(451, "4.3.1", "Attachments cannot be stored right now, try again later");
}

/**
 * A mail's attachments (file names already made safe) as canonical parts in the shared store,
 * under the sender's domain's limits; rejects with the ParleyError of the first limit broken.
 * Without a media service (some tests) the bytes go to `blobs` with the declared type.
 */
export async function attachmentParts(media: MediaPort | undefined, blobs: BlobStore, files: readonly MimeAttachment[], from: Endpoint): Promise<AttachmentPart[]> {
  const scope = inboundScope(from);
  const limits = media?.limits(scope);
  if (limits && files.length > limits.maxFiles) throw new ParleyError("PARLEY_TOO_LARGE", `${files.length} files in one message; at most ${limits.maxFiles} are accepted`);
  const parts: AttachmentPart[] = [];
  for (const a of files) {
    parts.push(media
      ? await media.store(a.content, { ...(a.filename ? { filename: a.filename } : {}), contentType: a.contentType }, scope)
      : { role: "attachment", contentType: headerSafe(a.contentType, 255), size: a.content.length, blobRef: await blobs.put(a.content), ...(a.filename ? { filename: a.filename } : {}) });
  }
  return parts;
}

export interface OutboundFiles {
  readonly attachments: MailAttachment[];
  /** Lines for the text: files sent as links instead of attachments, and why. */
  readonly notes: string[];
}

async function streamOf(blobs: BlobStore, p: { blobRef: string; filename?: string | undefined }): Promise<Readable> {
  try {
    return await blobs.open(p.blobRef);
  } catch (e) {
    throw new DeliveryError("permanent", "unavailable", `${p.filename ?? "an attached file"} has expired from Parley's store`, { cause: e });
  }
}

/**
 * The MIME parts of a message's files for a recipient, after its limits: too many files or a type
 * not accepted is a permanent failure; a file over the size limit goes as a link when the media
 * listener is on (noted in the text), else it is a permanent failure too.
 */
export async function outboundFiles(media: MediaPort | undefined, blobs: BlobStore, m: Message): Promise<OutboundFiles> {
  const attachments: MailAttachment[] = [];
  const notes: string[] = [];
  const limits = media?.limits({ network: EMAIL, domain: domainOf(m.to.address) });
  const files = m.parts.filter((p): p is AttachmentPart => p.role === "attachment");
  if (limits && files.length > limits.maxFiles) {
    throw new DeliveryError("permanent", "too-large", `${files.length} files in one message; at most ${limits.maxFiles} go to ${m.to.address}`);
  }
  for (const p of m.parts) {
    if (p.role === "opaque") {
      // A signed mail carried as a file too (filesToCarry) is attached once, as that file.
      if (files.some((f) => f.blobRef === p.blobRef)) continue;
      attachments.push({ content: await streamOf(blobs, p), contentType: p.contentType });
      continue;
    }
    if (p.role !== "attachment") continue;
    const name = headerSafe(p.filename ?? "file", 120);
    const broken = limits ? media?.check([p], { network: EMAIL, domain: domainOf(m.to.address) }) : undefined;
    if (broken?.code === "PARLEY_TOO_LARGE") {
      const url = media?.publicUrl(p);
      if (!url) throw new DeliveryError("permanent", "too-large", broken.message, { cause: broken });
      notes.push(`[${name} (${p.size} bytes) is too large to attach here; it is at ${url}]`);
      continue;
    }
    if (broken) throw new DeliveryError("permanent", broken.info.reason, broken.message, { cause: broken });
    attachments.push({ content: await streamOf(blobs, p), contentType: p.contentType, filename: name, contentDisposition: "attachment" });
  }
  return { attachments, notes };
}

