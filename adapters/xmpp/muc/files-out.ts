/**
 * Files of a room message out to a linked MUC room (issue 13 in rooms), as one-to-one messages
 * carry them (media/outbound.ts): the text first (captions, and a placeholder for a file Parley
 * has no link for), then one groupchat per file whose body is only the file's signed URL on
 * Parley's media listener, with XEP-0066 OOB — what Conversations, Gajim and Dino show inline.
 */
import type { AttachmentPart } from "../../../src/adapter/media.js";
import { plainText } from "../../../src/model/message.js";
import type { RoomMessage } from "../../../src/model/room-events.js";
import { fileBodies, placeholder, type FileBody, type OutboundFile } from "../media/outbound.js";

/**
 * The bodies of a room message's groupchats. Without files, one: its text (a single space when
 * empty, as a body must have content). With files, the text only when there is some, then one per file.
 */
export function mucBodies(m: Pick<RoomMessage, "parts">, files: readonly OutboundFile[]): FileBody[] {
  const attachments = m.parts.filter((p): p is AttachmentPart => p.role === "attachment");
  if (attachments.length === 0) return [{ body: plainText(m) || " " }];
  const lines = [
    ...m.parts.flatMap((p) => (p.role === "text" && p.body !== "" ? [p.body] : [])),
    ...attachments.filter((a) => !files.some((f) => f.part === a)).map(placeholder),
  ];
  // Never empty when there is no file: each attachment without a link has its placeholder line.
  return fileBodies(lines.join("\n"), files);
}
