/**
 * What a Matrix user's reaction or redaction refers to (issue 18), the same in a puppet's DM and in
 * a linked room: an `m.annotation` names a message by event id, looked up in the id map under the
 * room's scope; a redaction removes a reaction Parley relayed (remembered as `rx-in:<event id>`)
 * or retracts the redacting user's own message, never someone else's. Callers decide when the
 * remembered reaction is written or forgotten (their durability differs).
 */
import type { CanonicalId } from "../../../src/model/ids.js";
import type { Reaction } from "../../../src/model/interactions.js";
import { MATRIX } from "../config.js";
import type { MatrixDeps } from "../deps.js";
import { enc, Method } from "../homeserver.js";
import type { MatrixEvent } from "../types.js";

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

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

/** What a redaction means: a relayed reaction removed, the sender's own message retracted, or nothing. */
export type RedactionMeaning = { readonly reaction: Reaction; readonly redacts: string } | { readonly retracts: CanonicalId };

/**
 * The meaning of an `m.room.redaction`. `reader` is a user in the room who may read the redacted
 * event (a redacted event keeps its sender); a redaction of someone else's message is logged with
 * `notOwn` and means nothing.
 */
export async function redactionOf(d: MatrixDeps, ev: MatrixEvent, reader: string, notOwn: string): Promise<RedactionMeaning | undefined> {
  const redacts = typeof ev.redacts === "string" ? ev.redacts : ev.content.redacts;
  if (typeof redacts !== "string") return undefined;
  const rx = await d.ctx.state.get(reactionKey(redacts));
  if (rx !== undefined) return { reaction: { ...(JSON.parse(rx) as Reaction), op: "remove" }, redacts };
  const target = await d.ctx.ids.canonicalFor({ network: MATRIX, kind: "event", id: redacts, scope: ev.room_id });
  if (target === undefined) return undefined;
  const original = await d.hs.request<{ sender?: string }>(reader, Method.Get, `/rooms/${enc(ev.room_id)}/event/${enc(redacts)}`);
  if (original.sender !== ev.sender) {
    d.log.info({ eventId: ev.event_id, redacts }, notOwn);
    return undefined;
  }
  return { retracts: target };
}
