/**
 * Open rooms whose home is a Matrix room (issue 12; docs/rooms.md "An XMPP user joins a Matrix room
 * through Parley's MUC service"): another network's user reaches `#room:server` or `!id:server`
 * with no admin step. Before the room is opened Parley checks it (`checkOpenRoom`): the alias
 * resolves, the bridge bot can join (Matrix gives a non-member no reliable view of a room's join
 * rules, so the check is the join itself), the join rule is `public` and the room is not
 * end-to-end encrypted (Parley could not read it: refused, not half-bridged). A refused room is left
 * again. Then `listenToRoom`: the bot sits in the room, so the homeserver pushes its events to
 * Parley like a linked room's, and the members already in the room and its topic are read once
 * from the room's state and handed to the core, so the other network shows them.
 */
import { ParleyError } from "../../../src/errors/parley-error.js";
import { errorMessage } from "../../../src/errors/message.js";
import { newCanonicalId } from "../../../src/model/ids.js";
import { cleanRoomText, MAX_ROOM_NAME_CHARS, MAX_SUBJECT_CHARS, type RoomActivityInput } from "../../../src/model/room-events.js";
import { fromNative, isOwnUser } from "../address.js";
import { MATRIX } from "../config.js";
import type { MatrixDeps } from "../deps.js";
import { errcodeOf, httpStatusOf } from "../errors.js";
import { enc, Method } from "../homeserver.js";
import { ensureJoined, linkFormOf, roomIdOf } from "./linked.js";

const AUTH = { method: "network" as const, detail: "room state read by the application service" };
/** Members read from a room's state when it opens; more are shown as they speak or join. */
export const MAX_MEMBERS_AT_OPEN = 500;

interface StateEvent {
  readonly type?: unknown;
  readonly state_key?: unknown;
  readonly sender?: unknown;
  readonly content?: Record<string, unknown>;
}

function unavailable(what: string, e: unknown): ParleyError {
  return new ParleyError("PARLEY_UNAVAILABLE", `the homeserver did not answer ${what}: ${errorMessage(e)}`, {}, { cause: e });
}

async function leaveQuietly(d: MatrixDeps, roomId: string): Promise<void> {
  await d.ctx.state.delete(`joined:${roomId}|${d.bot}`).catch(() => undefined);
  await d.hs.request(d.bot, Method.Post, `/rooms/${enc(roomId)}/leave`, {}).catch(() => undefined);
}

async function stateOf(d: MatrixDeps, roomId: string, type: string): Promise<Record<string, unknown> | undefined> {
  try {
    return await d.hs.request<Record<string, unknown>>(d.bot, Method.Get, `/rooms/${enc(roomId)}/state/${enc(type)}/`);
  } catch (e) {
    if (errcodeOf(e) === "M_NOT_FOUND" || httpStatusOf(e) === 404) return undefined;
    throw e;
  }
}

/** May the Matrix room `native` (an alias or id) be opened for another network? Throws ParleyError when not. */
export async function checkMatrixRoom(d: MatrixDeps, native: string): Promise<void> {
  let roomId: string;
  try {
    // Resolved without remembering it (roomIdOf would record the alias as the room's form before the checks).
    roomId = native.startsWith("!") ? native
      : (await d.ctx.state.get(`alias:${native}`)) ?? (await d.hs.request<{ room_id: string }>(d.bot, Method.Get, `/directory/room/${enc(native)}`)).room_id;
  } catch (e) {
    if (errcodeOf(e) === "M_NOT_FOUND" || httpStatusOf(e) === 404) throw new ParleyError("PARLEY_ADDRESS_UNKNOWN", `the Matrix room ${native} does not exist`);
    throw unavailable(`about ${native}`, e);
  }
  // One Matrix room, one bridge: not a room the admin linked or that is bridged already under
  // another form (its id or alias, or a portal Parley made for another network's room).
  const form = await linkFormOf(d, roomId);
  for (const other of new Set([roomId, form])) {
    if (other === native) continue;
    if (d.ctx.mappings().rooms?.find(MATRIX, other) !== undefined) throw new ParleyError("PARLEY_REFUSED", `the Matrix room ${native} is linked by the admin as ${other}`);
    if ((await d.ctx.rooms?.find({ network: MATRIX, id: other })) !== undefined) throw new ParleyError("PARLEY_REFUSED", `the Matrix room ${native} is bridged already (as ${other})`);
  }
  const wasIn = (await d.ctx.state.get(`joined:${roomId}|${d.bot}`)) !== undefined;
  try {
    await ensureJoined(d, roomId, d.bot);
  } catch (e) {
    const code = errcodeOf(e);
    if (code === "M_FORBIDDEN") throw new ParleyError("PARLEY_REFUSED", `the Matrix room ${native} is not public: Parley cannot join it`);
    if (code === "M_NOT_FOUND" || code === "M_UNKNOWN" || httpStatusOf(e) === 404) throw new ParleyError("PARLEY_ADDRESS_UNKNOWN", `the Matrix room ${native} cannot be reached`);
    throw unavailable(`a join of ${native}`, e);
  }
  let why: string | undefined;
  try {
    const rules = await stateOf(d, roomId, "m.room.join_rules");
    if (rules?.join_rule !== "public") why = `the Matrix room ${native} is not public (join rule ${typeof rules?.join_rule === "string" ? rules.join_rule.slice(0, 20) : "unknown"})`;
    else if ((await stateOf(d, roomId, "m.room.encryption")) !== undefined) why = `the Matrix room ${native} is end-to-end encrypted: Parley cannot read it`;
  } catch (e) {
    throw unavailable(`about ${native}`, e);
  }
  if (why !== undefined) {
    if (!wasIn) await leaveQuietly(d, roomId);
    d.log.info({ room: native, reason: why }, "open room refused");
    throw new ParleyError("PARLEY_REFUSED", why);
  }
}

/** The bot listens to an opened Matrix room; its members and topic are handed to the core once. */
export async function listenToMatrixRoom(d: MatrixDeps, native: string): Promise<void> {
  const roomId = await roomIdOf(d, native).catch((e: unknown) => { throw unavailable(`about ${native}`, e); });
  await ensureJoined(d, roomId, d.bot).catch((e: unknown) => { throw new ParleyError("PARLEY_REFUSED", `the bridge bot could not join ${native}: ${errorMessage(e)}`, {}, { cause: e }); });
  // The form the room was opened by (an alias, or the id itself): its events are found by it, and
  // a later open under the other form is refused (checkMatrixRoom).
  await d.ctx.state.set(`linkof:${roomId}`, native);
  let events: StateEvent[];
  try {
    events = await d.hs.request<StateEvent[]>(d.bot, Method.Get, `/rooms/${enc(roomId)}/state`);
  } catch (e) {
    d.log.warn({ room: native, err: errorMessage(e) }, "the room's members were not read: they show as they speak or join");
    return;
  }
  const mappings = d.ctx.mappings();
  const at = new Date().toISOString();
  const activities: RoomActivityInput[] = [];
  for (const ev of Array.isArray(events) ? events : []) {
    const c = ev.content ?? {};
    try {
      if (ev.type === "m.room.member" && typeof ev.state_key === "string" && c.membership === "join" && !isOwnUser(ev.state_key, mappings)) {
        if (activities.length >= MAX_MEMBERS_AT_OPEN) continue;
        const name = typeof c.displayname === "string" ? cleanRoomText(c.displayname, MAX_ROOM_NAME_CHARS) : "";
        activities.push({ type: "membership", membership: { id: newCanonicalId(), member: fromNative(ev.state_key, mappings), change: "join", displayName: name || undefined, authenticatedBy: AUTH, at } });
      }
    } catch {
      // a member Parley cannot name is not shown
    }
  }
  const topic = events.find((ev) => ev.type === "m.room.topic");
  if (topic && typeof topic.content?.topic === "string" && typeof topic.sender === "string" && !isOwnUser(topic.sender, mappings) && topic.content.topic !== "") {
    try {
      activities.push({ type: "subject", subject: { id: newCanonicalId(), by: fromNative(topic.sender, mappings), subject: cleanRoomText(topic.content.topic, MAX_SUBJECT_CHARS), authenticatedBy: AUTH, at } });
    } catch {
      // a topic by a user Parley cannot name is not shown
    }
  }
  if (activities.length === 0) return;
  const results = await d.ctx.accept(activities.map((activity) => ({ kind: "room" as const, room: { network: MATRIX, id: native }, activity })));
  const refused = results.filter((r) => r.status === "refused").length;
  d.log.info({ room: native, activities: activities.length, refused }, "open room's members and topic handed over");
}
