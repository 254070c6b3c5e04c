/**
 * Everyday chat features from Matrix users in a puppet's DM (issue 18): `m.reaction` annotations,
 * redactions (of a reaction: the reaction removed; of the user's own message: a retraction) and
 * `m.typing`, as canonical events in the transaction's plan.
 */
import { newCanonicalId, type CanonicalId } from "../../../src/model/ids.js";
import type { Endpoint } from "../../../src/model/address.js";
import type { Reaction } from "../../../src/model/interactions.js";
import { MessageSchema, type Message } from "../../../src/model/message.js";
import { fromNative } from "../address.js";
import { MATRIX } from "../config.js";
import type { MatrixDeps } from "../deps.js";
import type { RoomRecord } from "../rooms.js";
import type { MatrixEvent, Plan } from "../types.js";
import { annotationOf, reactionKey, redactionOf, REACTIONS_TTL_SECONDS } from "./relations.js";
import { isObj } from "../untrusted.js";

type Obj = Record<string, unknown>;
const AUTH = { method: "network", detail: "application service hs_token" } as const;

interface Parties { readonly from: Endpoint; readonly to: Endpoint }

function parties(d: MatrixDeps, rec: RoomRecord): Parties | undefined {
  try {
    const from = fromNative(rec.user, d.ctx.mappings());
    const to = fromNative(rec.owner, d.ctx.mappings());
    return from.network === MATRIX && to.network !== MATRIX ? { from, to } : undefined;
  } catch {
    return undefined;
  }
}

function interaction(ev: MatrixEvent, p: Parties, body: string, extra: { reaction: Reaction } | { retracts: CanonicalId }): Message {
  return MessageSchema.parse({
    id: newCanonicalId(), nativeIds: [{ network: MATRIX, kind: "event", id: ev.event_id, scope: ev.room_id }],
    from: p.from, to: p.to, authenticatedBy: AUTH, sentAt: new Date().toISOString(), kind: "chat",
    parts: [{ role: "text", body }], ...extra,
  });
}

function push(d: MatrixDeps, plan: Plan, ev: MatrixEvent, message: Message, after?: () => Promise<void>): void {
  plan.items.push({
    event: { kind: "message", message },
    onResult: async (r) => {
      if (r.status !== "accepted") return;
      await d.ctx.ids.link(r.messageId ?? message.id, { network: MATRIX, kind: "event", id: ev.event_id, scope: ev.room_id });
      await after?.();
    },
  });
}

/** Client-server API "Annotations": an `m.reaction` with an `m.annotation` relation and a key. */
async function reaction(d: MatrixDeps, plan: Plan, ev: MatrixEvent, p: Parties): Promise<void> {
  const r = await annotationOf(d, ev, "reaction to a message Parley does not know: not bridged");
  if (r === undefined) return;
  push(d, plan, ev, interaction(ev, p, r.key, { reaction: r }), () => d.ctx.state.set(reactionKey(ev.event_id), JSON.stringify(r), REACTIONS_TTL_SECONDS));
}

/** A redaction of the user's reaction removes it; of the user's own message, retracts it; of anything else, nothing. */
async function redaction(d: MatrixDeps, plan: Plan, ev: MatrixEvent, rec: RoomRecord, p: Parties): Promise<void> {
  const meaning = await redactionOf(d, ev, rec.owner, "redaction of someone else's message: not bridged (only the original sender retracts)");
  if (meaning === undefined) return;
  if ("reaction" in meaning) {
    push(d, plan, ev, interaction(ev, p, meaning.reaction.key, { reaction: meaning.reaction }), () => d.ctx.state.delete(reactionKey(meaning.redacts)));
    return;
  }
  push(d, plan, ev, interaction(ev, p, "(message retracted)", { retracts: meaning.retracts }));
}

/** A reaction or a redaction by the Matrix user of a puppet's DM; false for anything else. */
export async function interactionItem(d: MatrixDeps, plan: Plan, ev: MatrixEvent, rec: RoomRecord): Promise<boolean> {
  if (ev.type !== "m.reaction" && ev.type !== "m.room.redaction") return false;
  const p = rec.kind === "dm" && ev.sender === rec.user ? parties(d, rec) : undefined;
  if (p === undefined) return true;
  if (ev.type === "m.reaction") await reaction(d, plan, ev, p);
  else await redaction(d, plan, ev, rec, p);
  return true;
}

/** The last typing state seen per DM room (best effort, this process only, bounded). */
const typingNow = new Map<string, boolean>();
const MAX_TYPING_ROOMS = 10_000;

/** `m.typing` lists who types in a room now: the DM's user starting or stopping is a typing change. */
export async function typingItem(d: MatrixDeps, plan: Plan, e: Obj): Promise<void> {
  const roomId = e.room_id;
  if (typeof roomId !== "string" || !isObj(e.content) || !Array.isArray(e.content.user_ids)) return;
  const rec = await d.rooms.record(roomId);
  if (!rec || rec.kind !== "dm") return;
  const p = parties(d, rec);
  if (!p) return;
  const typing = e.content.user_ids.includes(rec.user);
  if ((typingNow.get(roomId) ?? false) === typing) return;
  if (typingNow.size >= MAX_TYPING_ROOMS) typingNow.clear();
  typingNow.set(roomId, typing);
  plan.items.push({ event: { kind: "typing", from: p.from, to: p.to, state: typing ? "composing" : "paused", authenticatedBy: AUTH } });
}
