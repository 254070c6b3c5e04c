/**
 * Everyday chat features from members of linked Matrix rooms (issue 18 in rooms): an `m.reaction`
 * annotation, a redaction (of the member's reaction: the reaction removed; of the member's own
 * message: a retraction), `m.typing` and `m.read` receipts. A message is named by its event id, looked up in the id
 * map under the room's scope.
 */
import { newCanonicalId } from "../../../src/model/ids.js";
import type { Endpoint } from "../../../src/model/address.js";
import type { Reaction } from "../../../src/model/interactions.js";
import type { RoomActivityInput } from "../../../src/model/room-events.js";
import { fromNative, isOwnUser } from "../address.js";
import { MATRIX } from "../config.js";
import type { MatrixDeps } from "../deps.js";
import type { MatrixEvent, Plan } from "../types.js";
import { annotationOf, reactionKey, redactionOf, REACTIONS_TTL_SECONDS } from "../features/relations.js";
import { linkFormOf } from "./linked.js";
import { isObj } from "../untrusted.js";

type Obj = Record<string, unknown>;
const AUTH = { method: "network" as const, detail: "application service hs_token" };

function interaction(ev: MatrixEvent, from: Endpoint, body: string, extra: { reaction: Reaction } | { retracts: ReturnType<typeof newCanonicalId>; moderation?: { reason?: string } }): RoomActivityInput {
  return { type: "message", message: {
    id: newCanonicalId(), nativeIds: [{ network: MATRIX, kind: "event", id: ev.event_id, scope: ev.room_id }],
    from, authenticatedBy: AUTH, sentAt: new Date().toISOString(), kind: "chat", parts: [{ role: "text", body }], ...extra,
  } };
}

/** Client-server API "Annotations": an `m.reaction` with an `m.annotation` relation and a key. */
async function reaction(d: MatrixDeps, ev: MatrixEvent, from: Endpoint): Promise<RoomActivityInput | undefined> {
  const r = await annotationOf(d, ev, "reaction to a room message Parley does not know: not bridged");
  if (r === undefined) return undefined;
  await d.ctx.state.set(reactionKey(ev.event_id), JSON.stringify(r), REACTIONS_TTL_SECONDS);
  return interaction(ev, from, r.key, { reaction: r });
}

/**
 * A redaction of the member's reaction removes it; of the member's own message, retracts it; of
 * someone else's message, by a member whose power level allows `redact`, moderates it (XEP-0425 in
 * the MUC). The bot reads the redacted event and the power levels.
 */
async function redaction(d: MatrixDeps, ev: MatrixEvent, from: Endpoint): Promise<RoomActivityInput | undefined> {
  const meaning = await redactionOf(d, ev, d.bot, "a redaction of someone else's message by a member without the power to redact: not bridged (docs/rooms.md, moderation)", true);
  if (meaning === undefined) return undefined;
  if ("reaction" in meaning) {
    await d.ctx.state.delete(reactionKey(meaning.redacts));
    return interaction(ev, from, meaning.reaction.key, { reaction: meaning.reaction });
  }
  if (meaning.moderation !== undefined) return interaction(ev, from, "(message moderated)", { retracts: meaning.retracts, moderation: meaning.moderation });
  return interaction(ev, from, "(message retracted)", { retracts: meaning.retracts });
}

/** The feature activity of a linked room's event, or undefined when it is none (or not bridged). */
export async function roomFeatureActivity(d: MatrixDeps, ev: MatrixEvent, from: Endpoint): Promise<RoomActivityInput | undefined> {
  if (ev.type === "m.reaction") return reaction(d, ev, from);
  if (ev.type === "m.room.redaction") return redaction(d, ev, from);
  return undefined;
}

/** `m.receipt` in a linked room: each member's `m.read` on a bridged message is a room read marker. */
export async function linkedRoomReceipts(d: MatrixDeps, plan: Plan, e: Obj): Promise<void> {
  const roomId = e.room_id;
  if (typeof roomId !== "string" || !isObj(e.content)) return;
  const form = await linkFormOf(d, roomId);
  const mappings = d.ctx.mappings();
  if (!mappings.rooms?.find(MATRIX, form)) return;
  for (const [eventId, receipt] of Object.entries(e.content)) {
    if (!isObj(receipt) || !isObj(receipt["m.read"])) continue;
    const readers = Object.keys(receipt["m.read"]).filter((u) => !isOwnUser(u, mappings));
    const target = readers.length > 0 ? await d.ctx.ids.canonicalFor({ network: MATRIX, kind: "event", id: eventId, scope: roomId }) : undefined;
    if (target === undefined) continue;
    for (const user of readers) {
      let by: Endpoint;
      try {
        by = fromNative(user, mappings);
      } catch {
        continue;
      }
      const activity: RoomActivityInput = { type: "displayed", displayed: { id: newCanonicalId(), by, target, authenticatedBy: AUTH, at: new Date().toISOString() } };
      plan.items.push({ event: { kind: "room", room: { network: MATRIX, id: form }, activity } });
    }
  }
}

/** Who typed in each linked room at the last `m.typing` (best effort, this process only, bounded). */
const typingNow = new Map<string, ReadonlySet<string>>();
const MAX_ROOMS = 10_000;

/** `m.typing` in a linked room lists who types now: each member starting or stopping is a room typing change. */
export async function linkedRoomTyping(d: MatrixDeps, plan: Plan, e: Obj): Promise<void> {
  const roomId = e.room_id;
  if (typeof roomId !== "string" || !isObj(e.content) || !Array.isArray(e.content.user_ids)) return;
  const form = await linkFormOf(d, roomId);
  if (!d.ctx.mappings().rooms?.find(MATRIX, form) && (await d.ctx.rooms?.find({ network: MATRIX, id: roomId })) === undefined) return;
  const mappings = d.ctx.mappings();
  const now = new Set(e.content.user_ids.filter((u): u is string => typeof u === "string" && !isOwnUser(u, mappings)));
  const before = typingNow.get(roomId) ?? new Set<string>();
  if (typingNow.size >= MAX_ROOMS && !typingNow.has(roomId)) typingNow.clear();
  typingNow.set(roomId, now);
  const changes = [...[...now].filter((u) => !before.has(u)).map((u) => [u, "composing"] as const), ...[...before].filter((u) => !now.has(u)).map((u) => [u, "paused"] as const)];
  for (const [user, state] of changes) {
    let from: Endpoint;
    try {
      from = fromNative(user, mappings);
    } catch {
      continue;
    }
    plan.items.push({ event: { kind: "room-typing", room: { network: MATRIX, id: form }, from, state, authenticatedBy: AUTH } });
  }
}
