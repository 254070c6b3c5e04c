/**
 * What a Matrix user's reaction or redaction refers to (issue 18), the same in a puppet's DM and in
 * a linked room: an `m.annotation` names a message by event id, looked up in the id map under the
 * room's scope; a redaction removes a reaction Parley relayed (remembered as `rx-in:<event id>`)
 * or retracts the redacting user's own message; someone else's only in a linked room, by a member
 * whose power level allows `redact` (a moderation, XEP-0425 in the MUC). Callers decide when the
 * remembered reaction is written or forgotten (their durability differs).
 */
import type { CanonicalId } from "../../../src/model/ids.js";
import type { Reaction } from "../../../src/model/interactions.js";
import { errorMessage } from "../../../src/errors/message.js";
import { MATRIX } from "../config.js";
import type { MatrixDeps } from "../deps.js";
import { enc, Method } from "../homeserver.js";
import type { MatrixEvent } from "../types.js";
import { isObj } from "../untrusted.js";

type Obj = Record<string, unknown>;

/** How long a relayed reaction is remembered, so that its redaction can remove it. */
export const REACTIONS_TTL_SECONDS = 30 * 24 * 3600;

/** The state key remembering the reaction an `m.reaction` event carried. */
export const reactionKey = (eventId: string): string => `rx-in:${eventId}`;

/** Client-server API "Annotations": the reaction an `m.reaction` adds, or undefined (logged when its target is unknown). */
export async function annotationOf(d: MatrixDeps, ev: MatrixEvent, unknownTarget: string): Promise<Reaction | undefined> {
  const rel = isObj(ev.content["m.relates_to"]) ? ev.content["m.relates_to"] : {};
  if (rel.rel_type !== "m.annotation" || typeof rel.event_id !== "string" || typeof rel.key !== "string" || rel.key === "" || rel.key.length > 64) return undefined;
  const target = await d.ctx.ids.canonicalFor({ network: MATRIX, kind: "event", id: rel.event_id, scope: ev.room_id });
  if (target === undefined) {
    d.log.info({ eventId: ev.event_id }, unknownTarget);
    return undefined;
  }
  return { target, key: rel.key, op: "add" };
}

/**
 * What a redaction means: a relayed reaction removed, the sender's own message retracted, a
 * moderator's retraction of someone else's message (in a linked room, by a member whose power
 * level allows `redact`), or nothing.
 */
export type RedactionMeaning =
  | { readonly reaction: Reaction; readonly redacts: string }
  | { readonly retracts: CanonicalId; readonly moderation?: { readonly reason?: string } };

/**
 * Client-server API "m.room.power_levels": whether `user` may redact others' events in the room
 * (`redact`, default 50). From room version 12 on, the room's creators (the `m.room.create` sender
 * and its `additional_creators`) outrank every level and are not listed in `users`.
 */
export async function mayRedactOthers(d: MatrixDeps, reader: string, roomId: string, user: string): Promise<boolean> {
  const state = (type: string) => d.hs.request<Obj>(reader, Method.Get, `/rooms/${enc(roomId)}/state/${type}/`).catch((e: unknown) => {
    d.log.info({ roomId, type, err: errorMessage(e) }, "room state could not be read: a redaction of another's message is not taken as a moderation");
    return undefined;
  });
  const pl = await state("m.room.power_levels");
  if (pl === undefined) return false;
  if (!(isObj(pl.users) && user in pl.users)) {
    const create = await d.hs.request<{ sender?: string; content?: Obj }>(reader, Method.Get, `/rooms/${enc(roomId)}/state/m.room.create/`, undefined, { format: "event" }).catch(() => undefined);
    const version = Number(create?.content?.room_version ?? "1");
    const extra = Array.isArray(create?.content?.additional_creators) ? create.content.additional_creators : [];
    if (Number.isFinite(version) && version >= 12 && (create?.sender === user || extra.includes(user))) return true;
  }
  const num = (v: unknown, dflt: number) => (typeof v === "number" && Number.isFinite(v) ? v : dflt);
  const users = isObj(pl.users) ? pl.users : {};
  return num(users[user], num(pl.users_default, 0)) >= num(pl.redact, 50);
}

/**
 * The meaning of an `m.room.redaction`. `reader` is a user in the room who may read the redacted
 * event (a redacted event keeps its sender). A redaction of someone else's message is a moderation
 * when `moderation` is set (rooms) and the room's power levels let its sender redact others';
 * otherwise it is logged with `notOwn` and means nothing.
 */
export async function redactionOf(d: MatrixDeps, ev: MatrixEvent, reader: string, notOwn: string, moderation = false): Promise<RedactionMeaning | undefined> {
  const redacts = typeof ev.redacts === "string" ? ev.redacts : ev.content.redacts;
  if (typeof redacts !== "string") return undefined;
  const rx = await d.ctx.state.get(reactionKey(redacts));
  if (rx !== undefined) return { reaction: { ...(JSON.parse(rx) as Reaction), op: "remove" }, redacts };
  const target = await d.ctx.ids.canonicalFor({ network: MATRIX, kind: "event", id: redacts, scope: ev.room_id });
  if (target === undefined) return undefined;
  const original = await d.hs.request<{ sender?: string }>(reader, Method.Get, `/rooms/${enc(ev.room_id)}/event/${enc(redacts)}`);
  if (original.sender !== ev.sender) {
    // The homeserver applies a redaction of another's event only with the power; Parley checks it too.
    if (moderation && (await mayRedactOthers(d, reader, ev.room_id, ev.sender))) {
      const reason = typeof ev.content.reason === "string" && ev.content.reason.trim() !== "" ? ev.content.reason.slice(0, 1024) : undefined;
      return { retracts: target, moderation: reason === undefined ? {} : { reason } };
    }
    d.log.info({ eventId: ev.event_id, redacts, moderationChecked: moderation }, notOwn);
    return undefined;
  }
  return { retracts: target };
}
