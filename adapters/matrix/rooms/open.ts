/**
 * Open rooms, Matrix side (issue 12; Application Service API "Querying room aliases"): a Matrix
 * user joins `#<prefix><network>_<escaped room>:<server>` (open-alias.ts); the homeserver does not
 * know the alias, so it asks Parley (`GET /_matrix/app/v1/rooms/{alias}`), which lives in Parley's
 * exclusive alias namespace. Parley asks the core whether the room may be opened (open-federation
 * policy, the room exists and takes Parley), has the bridge bot create a public portal room with
 * that alias, and hands both to the core, which stores the open room and starts listening in the
 * other network's room. Then the homeserver finds the alias and the user joins.
 *
 * Anything else is 404 (the homeserver tells the user the alias is unknown) and nothing is made:
 * an alias outside the namespace or not in its canonical form, a Matrix "room", a room that does
 * not exist or refuses Parley, a policy refusal. A failure that may pass is 503.
 */
import { isParleyError, ParleyError } from "../../../src/errors/parley-error.js";
import { errorMessage } from "../../../src/errors/message.js";
import { endpoint } from "../../../src/model/address.js";
import type { NativeRoom } from "../../../src/model/room.js";
import { matrixSettings } from "../address.js";
import { MATRIX } from "../config.js";
import type { MatrixDeps } from "../deps.js";
import { enc, Method } from "../homeserver.js";
import { classify, errcodeOf } from "../errors.js";
import type { HttpReply } from "../types.js";
import { openRoomAlias, parseOpenRoomAlias } from "./open-alias.js";

const notFound = (why: string): HttpReply => ({ status: 404, body: { errcode: "M_NOT_FOUND", error: why } });
const OK: HttpReply = { status: 200, body: {} };

/** Alias queries in flight, so the homeserver asking twice at once makes one portal. */
const inFlight = new WeakMap<MatrixDeps, Map<string, Promise<HttpReply>>>();

export function answerRoomQuery(d: MatrixDeps, alias: string): Promise<HttpReply> {
  let running = inFlight.get(d);
  if (!running) inFlight.set(d, (running = new Map<string, Promise<HttpReply>>()));
  const known = running.get(alias);
  if (known) return known;
  const answer = openPortal(d, alias).finally(() => running.delete(alias));
  running.set(alias, answer);
  return answer;
}

function refusal(d: MatrixDeps, alias: string, e: unknown): HttpReply {
  if (isParleyError(e) && !e.info.retryable) {
    d.log.info({ alias, code: e.code, reason: e.message }, "open room alias refused");
    return notFound(`no room for this alias: ${e.message}`);
  }
  d.log.warn({ alias, err: isParleyError(e) ? `${e.code}: ${e.message}` : errorMessage(e) }, "open room alias not answered for now");
  return { status: 503, body: { errcode: "M_UNKNOWN", error: "the gateway cannot open this room right now; try again later" } };
}

async function openPortal(d: MatrixDeps, alias: string): Promise<HttpReply> {
  const s = matrixSettings(d.ctx.mappings());
  const ref = parseOpenRoomAlias(alias, s);
  if (!ref || ref.network === MATRIX || !d.ctx.rooms) {
    d.log.info({ alias }, "open room alias refused: not a room alias of Parley's namespace");
    return notFound("not an open-room alias of this gateway");
  }
  let home: NativeRoom;
  try {
    home = await d.ctx.rooms.check({ network: ref.network, id: ref.room }, endpoint(`${s.botLocalpart}@${s.serverName}`, MATRIX));
  } catch (e) {
    return refusal(d, alias, e);
  }
  const canonical = openRoomAlias({ network: home.network, room: home.id }, s);
  if (canonical !== alias) {
    d.log.info({ alias, canonical }, "open room alias refused: not the room's canonical alias");
    return notFound(`this room's alias is ${canonical}`);
  }
  const roomId = await createPortal(d, alias, home).catch((e: unknown) => e);
  if (roomId === undefined) return OK;
  if (typeof roomId !== "string") return refusal(d, alias, roomId);
  try {
    await d.ctx.rooms.open(home, { network: MATRIX, id: roomId });
  } catch (e) {
    await dropPortal(d, alias, roomId);
    return refusal(d, alias, e);
  }
  d.log.info({ alias, roomId, room: `${home.network}:${home.id}` }, "open room portal created");
  return OK;
}

/**
 * The bridge bot creates a public room named after the foreign room, with the alias; its room id,
 * or undefined when the alias exists already (another query made it: the homeserver finds it now).
 * A homeserver refusing for good (an alias over its length limit) is a refusal; anything else may pass.
 */
async function createPortal(d: MatrixDeps, alias: string, home: NativeRoom): Promise<string | undefined> {
  const roomId = await d.hs.request<{ room_id: string }>(d.bot, Method.Post, "/createRoom", {
    room_alias_name: alias.slice(1, alias.indexOf(":")),
    preset: "public_chat",
    visibility: "private",
    name: home.id,
    topic: `The ${home.network} room ${home.id}, bridged by Parley`,
  }).then((r) => r.room_id).catch((e: unknown) => {
    if (errcodeOf(e) === "M_ROOM_IN_USE") return undefined;
    const permanent = classify(e, "creating the portal room").failureClass === "permanent";
    throw new ParleyError(permanent ? "PARLEY_REFUSED" : "PARLEY_UNAVAILABLE", `the homeserver did not create the portal room: ${errorMessage(e)}`, {}, { cause: e });
  });
  if (roomId === undefined) return undefined;
  await d.ctx.state.set(`joined:${roomId}|${d.bot}`, "1");
  return roomId;
}

/** Undo a portal whose room could not be bridged: the alias goes, the bot leaves. */
async function dropPortal(d: MatrixDeps, alias: string, roomId: string): Promise<void> {
  await d.hs.request(d.bot, Method.Delete, `/directory/room/${enc(alias)}`).catch((e: unknown) => d.log.warn({ alias, err: errorMessage(e) }, "portal alias not removed"));
  await d.hs.request(d.bot, Method.Post, `/rooms/${enc(roomId)}/leave`, {}).catch(() => undefined);
  await d.ctx.state.delete(`joined:${roomId}|${d.bot}`).catch(() => undefined);
}
