/**
 * Invites to Parley's users (issue 4 step 3; DESIGN §4): a puppet or the bot joins a direct
 * two-member room a Matrix user invites it to, and declines anything else with a notice (group
 * chat is not bridged yet); an encrypted room gets a notice saying what cannot be bridged.
 */
import { fromNative } from "./address.js";
import { MATRIX } from "./config.js";
import type { MatrixDeps } from "./deps.js";
import { enc, Method } from "./homeserver.js";

/** What an encrypted room is told (DESIGN §8, FIELD.md "Encrypted DMs"). */
export const E2E_NOTICE = (who: string): string =>
  `This room is end-to-end encrypted. Parley cannot read or send encrypted messages, so nothing written here reaches ${who}. ` +
  "Start a new direct chat without encryption to talk to them.";

/**
 * A notice from `owner` in a given room (not necessarily a recorded DM). `about`, the event it
 * answers, is quoted as a reply and names the transaction, so the same notice is never sent twice.
 */
export async function noticeInRoom(d: MatrixDeps, owner: string, roomId: string, text: string, about?: string, extra: Record<string, unknown> = {}): Promise<void> {
  const content: Record<string, unknown> = { ...extra, msgtype: "m.notice", body: text };
  if (about !== undefined) content["m.relates_to"] = { "m.in_reply_to": { event_id: about } };
  const txnId = about !== undefined ? `parley.notice.${about}` : `parley.notice.${Date.now()}.${Math.random().toString(36).slice(2)}`;
  await d.hs.request(owner, Method.Put, `/rooms/${enc(roomId)}/send/m.room.message/${enc(txnId)}`, content);
}

async function isEncrypted(d: MatrixDeps, as: string, roomId: string): Promise<boolean> {
  return d.hs.request(as, Method.Get, `/rooms/${enc(roomId)}/state/m.room.encryption/`).then(() => true, () => false);
}

async function leave(d: MatrixDeps, as: string, roomId: string): Promise<void> {
  await d.hs.request(as, Method.Post, `/rooms/${enc(roomId)}/leave`, {}).catch(() => undefined);
}

export async function handleInvite(d: MatrixDeps, roomId: string, inviter: string, target: string, content: Record<string, unknown>): Promise<void> {
  const mappings = d.ctx.mappings();
  const isBot = target === d.bot;
  let targetAddress = "the bridge bot";
  let inviterIsLocal = false;
  try {
    if (!isBot) targetAddress = fromNative(target, mappings).address;
    inviterIsLocal = fromNative(inviter, mappings).network === MATRIX;
  } catch {
    // not a puppet Parley can stand for, or an inviter that is not a Matrix user
  }
  if (!inviterIsLocal || (!isBot && targetAddress === "the bridge bot")) {
    await leave(d, target, roomId);
    return;
  }
  if (!isBot) await d.puppets.ensure(target, targetAddress);
  await d.hs.request(target, Method.Post, `/join/${enc(roomId)}`, {});
  if (await isEncrypted(d, target, roomId)) {
    await noticeInRoom(d, target, roomId, E2E_NOTICE(targetAddress));
    await leave(d, target, roomId);
    return;
  }
  const { joined } = await d.hs.request<{ joined: Record<string, unknown> }>(target, Method.Get, `/rooms/${enc(roomId)}/joined_members`);
  const members = Object.keys(joined);
  const direct = content.is_direct === true && members.length === 2 && members.includes(inviter) && members.includes(target);
  if (!direct) {
    await noticeInRoom(d, target, roomId, `${targetAddress} can only take part in direct chats with one person; group chats are not bridged yet.`);
    await leave(d, target, roomId);
    d.log.info({ roomId, members: members.length }, "declined a group invite");
    return;
  }
  const previous = await d.rooms.existing(target, inviter);
  await d.rooms.adopt(roomId, { kind: isBot ? "bot" : "dm", owner: target, user: inviter });
  if (previous !== undefined && previous !== roomId) await d.ctx.state.delete(`room:${previous}`);
  d.log.info({ roomId, bot: isBot }, "accepted a direct-chat invite");
}
