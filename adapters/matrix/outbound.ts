/**
 * Canonical → Matrix (issue 4 step 4): a message from a foreign user is sent by their puppet in
 * its DM room with the Matrix user (`PUT /rooms/{roomId}/send/m.room.message/{txnId}`, txnId
 * derived from the canonical id so a retry is the same transaction: client-server API
 * "Transaction identifiers"); statuses become a notice or a read receipt from the puppet.
 */
import { DeliveryError, type DeliveryOutcome } from "../../src/adapter/contract.js";
import { isParleyError } from "../../src/errors/parley-error.js";
import type { DeliveryStatus } from "../../src/model/delivery-status.js";
import type { CanonicalId } from "../../src/model/ids.js";
import { plainText, type Message, type NativeId } from "../../src/model/message.js";
import type { Endpoint } from "../../src/model/address.js";
import { toNative } from "./address.js";
import { MATRIX } from "./config.js";
import { HOPS_KEY, htmlToText, msgtypeFor, sanitizeMatrixHtml } from "./content.js";
import type { MatrixDeps } from "./deps.js";
import { classify, errcodeOf, reasonText } from "./errors.js";
import { enc, Method } from "./homeserver.js";
import type { RoomRecord } from "./rooms.js";
import { attachmentsOf, fileContents } from "./media/outbound.js";
import { isGeoUri, LOCATION_MSGTYPE } from "./features/event-types.js";

export function txnIdFor(id: string, suffix = ""): string {
  return `parley.${id}${suffix}`;
}

/** The Matrix user id of a local recipient, or a permanent failure. */
export function localUserId(d: MatrixDeps, who: Endpoint): string {
  if (who.network !== MATRIX) throw new DeliveryError("permanent", "recipient-unknown", `${who.address} is not a Matrix user`);
  return nativeOrFail(d, who);
}

export function nativeOrFail(d: MatrixDeps, who: Endpoint): string {
  try {
    return toNative(who, d.ctx.mappings());
  } catch (e) {
    if (isParleyError(e)) throw new DeliveryError("permanent", e.info.reason, e.message, { cause: e });
    throw e;
  }
}

async function eventOf(d: MatrixDeps, id: CanonicalId | undefined): Promise<string | undefined> {
  if (id === undefined) return undefined;
  return (await d.ctx.ids.nativeFor(id, MATRIX, "event"))?.id;
}

/** Matrix content of a canonical message: text, sanitised HTML, reply and edit relations, hop count. */
export async function contentFor(d: MatrixDeps, message: Message): Promise<Record<string, unknown>> {
  const html = message.parts.find((p) => p.role === "html")?.body;
  const formatted = html !== undefined ? sanitizeMatrixHtml(html) : "";
  let body = plainText(message);
  if (body === "" && formatted !== "") body = htmlToText(formatted);
  if (body === "") body = message.parts.some((p) => p.role === "opaque") ? "(an encrypted or signed part Parley cannot bridge)" : " ";
  const inner: Record<string, unknown> = { msgtype: msgtypeFor(message.kind), body };
  // A text that is exactly a geo: URI (what XMPP clients send for a location) is an m.location.
  if (formatted === "" && inner.msgtype === "m.text" && isGeoUri(body)) Object.assign(inner, { msgtype: LOCATION_MSGTYPE, geo_uri: body });
  if (formatted !== "") Object.assign(inner, { format: "org.matrix.custom.html", formatted_body: formatted });
  const replaced = await eventOf(d, message.replaces);
  if (replaced !== undefined) {
    // Client-server API "Event replacements": the fallback body is prefixed with "* ".
    return {
      msgtype: inner.msgtype, body: `* ${body}`,
      ...(formatted !== "" ? { format: "org.matrix.custom.html", formatted_body: `* ${formatted}` } : {}),
      "m.new_content": inner, "m.relates_to": { rel_type: "m.replace", event_id: replaced }, [HOPS_KEY]: message.hops,
    };
  }
  const repliedTo = await eventOf(d, message.inReplyTo);
  if (repliedTo !== undefined) inner["m.relates_to"] = { "m.in_reply_to": { event_id: repliedTo } };
  inner[HOPS_KEY] = message.hops;
  return inner;
}

/** Send an event in the DM of `owner` with `user`; a room found unusable is replaced once. */
export async function sendInDm(d: MatrixDeps, owner: string, user: string, kind: RoomRecord["kind"], content: Record<string, unknown>, txnId: string): Promise<{ roomId: string; eventId: string }> {
  const send = async (roomId: string) => {
    const path = `/rooms/${enc(roomId)}/send/m.room.message/${enc(txnId)}`;
    const { event_id: eventId } = await d.hs.request<{ event_id: string }>(owner, Method.Put, path, content);
    return { roomId, eventId };
  };
  const roomId = await d.rooms.dm(owner, user, kind);
  try {
    return await send(roomId);
  } catch (e) {
    if (errcodeOf(e) !== "M_FORBIDDEN") throw e;
    await d.rooms.forgetIfCurrent(owner, user, roomId);
    return send(await d.rooms.dm(owner, user, kind));
  }
}

export async function deliverMessage(d: MatrixDeps, message: Message): Promise<DeliveryOutcome> {
  const user = localUserId(d, message.to);
  const puppet = nativeOrFail(d, message.from);
  const sent = await d.ctx.ids.nativeFor(message.id, MATRIX, "event");
  if (sent) return { state: "relayed", nativeIds: [sent] };
  try {
    await d.puppets.ensure(puppet, message.from.address);
    d.profiles.follow(puppet, message.from);
    // Files are uploaded as the puppet and sent as native media events (media/outbound.ts).
    const contents = attachmentsOf(message).length > 0 ? await fileContents(d, message, puppet, () => contentFor(d, message)) : [await contentFor(d, message)];
    for (const content of contents) {
      const size = Buffer.byteLength(JSON.stringify(content));
      if (size > d.config.maxEventBytes - 1024) {
        throw new DeliveryError("permanent", "too-large", `the message has ${size} bytes; a Matrix event takes at most ${d.config.maxEventBytes}`);
      }
    }
    const sent0 = await sendInDm(d, puppet, user, "dm", contents[0]!, txnIdFor(message.id));
    for (const [i, content] of contents.slice(1).entries()) await sendInDm(d, puppet, user, "dm", content, txnIdFor(message.id, `.${i + 1}`));
    const { roomId, eventId } = sent0;
    const native: NativeId = { network: MATRIX, kind: "event", id: eventId, scope: roomId };
    await d.ctx.ids.link(message.id, native);
    d.log.debug({ messageId: message.id, roomId }, "message sent");
    return { state: "relayed", nativeIds: [native] };
  } catch (e) {
    throw classify(e, "sending the message");
  }
}

/** A notice from `owner` (a puppet or the bot) to `user`, optionally as a reply to an event. */
export async function notice(d: MatrixDeps, owner: string, user: string, text: string, opts: { kind?: RoomRecord["kind"]; inReplyTo?: string; txnId?: string } = {}): Promise<void> {
  const content: Record<string, unknown> = { msgtype: "m.notice", body: text };
  if (opts.inReplyTo !== undefined) content["m.relates_to"] = { "m.in_reply_to": { event_id: opts.inReplyTo } };
  await sendInDm(d, owner, user, opts.kind ?? "dm", content, opts.txnId ?? txnIdFor(`notice.${Date.now()}.${Math.random().toString(36).slice(2)}`));
}

/**
 * A status for a Matrix sender (RFC 2779 5.4.1): `failed` → a notice from the recipient's puppet
 * replying to the message that failed; `displayed` → the puppet's read receipt on it.
 */
export async function deliverStatus(d: MatrixDeps, status: DeliveryStatus): Promise<void> {
  if (status.state !== "failed" && status.state !== "displayed") return;
  const user = localUserId(d, status.sender);
  const puppet = nativeOrFail(d, status.recipient);
  try {
    const original = await d.ctx.ids.nativeFor(status.messageId, MATRIX, "event");
    await d.puppets.ensure(puppet, status.recipient.address);
    if (status.state === "displayed") {
      if (original?.scope === undefined) return;
      await d.hs.request(puppet, Method.Post, `/rooms/${enc(original.scope)}/receipt/m.read/${enc(original.id)}`, {});
      return;
    }
    const why = status.text ?? reasonText(status.reason);
    await notice(d, puppet, user, `⚠ Not delivered to ${status.recipient.address}: ${why}`, {
      ...(original ? { inReplyTo: original.id } : {}), txnId: txnIdFor(status.messageId, ".failed"),
    });
  } catch (e) {
    throw classify(e, "reporting a delivery status");
  }
}
