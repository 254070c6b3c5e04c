/**
 * Matrix → canonical (issue 4 steps 2–4; Matrix spec, Application Service API "Pushing events"):
 * the events of one transaction become a plan — canonical events for one `ctx.accept` call, each
 * with what to do with its result, and side effects (invites, notices) to run once acknowledged.
 */
import { newCanonicalId, type CanonicalId } from "../../src/model/ids.js";
import { DEFAULT_HOPS, MessageSchema, type Part } from "../../src/model/message.js";
import type { Endpoint } from "../../src/model/address.js";
import { fromNative, isOwnUser } from "./address.js";
import { handleBotMessage } from "./bot.js";
import { MATRIX } from "./config.js";
import { HOPS_KEY, kindFor, sanitizeMatrixHtml, stripReplyFallback } from "./content.js";
import type { MatrixDeps } from "./deps.js";
import { reasonText } from "./errors.js";
import { E2E_NOTICE, handleInvite, noticeInRoom } from "./invites.js";
import { presenceFromMatrix } from "./presence.js";
import type { RoomRecord } from "./rooms.js";
import type { MatrixEvent, Plan } from "./types.js";

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

function endpointOf(d: MatrixDeps, userId: string): Endpoint | undefined {
  try {
    return fromNative(userId, d.ctx.mappings());
  } catch {
    return undefined;
  }
}

async function canonicalOf(d: MatrixDeps, eventId: unknown, roomId: string): Promise<CanonicalId | undefined> {
  if (typeof eventId !== "string") return undefined;
  return d.ctx.ids.canonicalFor({ network: MATRIX, kind: "event", id: eventId, scope: roomId });
}

/** An `m.room.message` in a puppet's DM → a canonical message, or a notice saying why not. */
async function messageItem(d: MatrixDeps, plan: Plan, ev: MatrixEvent, rec: RoomRecord, to: Endpoint, from: Endpoint): Promise<void> {
  const c = ev.content;
  const relates = isObj(c["m.relates_to"]) ? c["m.relates_to"] : {};
  const isEdit = relates.rel_type === "m.replace" && isObj(c["m.new_content"]);
  const src = isEdit ? (c["m.new_content"] as Obj) : c;
  const tell = (text: string) => plan.followups.push(() => noticeInRoom(d, rec.owner, ev.room_id, text, ev.event_id));
  if (typeof src.msgtype !== "string" || typeof src.body !== "string") {
    d.log.info({ eventId: ev.event_id }, "malformed message");
    tell(`⚠ Not delivered to ${to.address}: the message is malformed (no text body).`);
    return;
  }
  const kind = kindFor(src.msgtype);
  if (kind === undefined) {
    d.log.info({ eventId: ev.event_id, msgtype: src.msgtype }, "unbridgeable message");
    tell(`⚠ Not delivered to ${to.address}: Parley can bridge only text messages (${src.msgtype} is not supported yet).`);
    return;
  }
  const inReplyToEvent = isObj(relates["m.in_reply_to"]) ? relates["m.in_reply_to"].event_id : undefined;
  const text = inReplyToEvent !== undefined && !isEdit ? stripReplyFallback(src.body) : src.body;
  const html = src.format === "org.matrix.custom.html" && typeof src.formatted_body === "string" ? sanitizeMatrixHtml(src.formatted_body) : "";
  const parts: Part[] = [{ role: "text", body: text }, ...(html !== "" ? [{ role: "html" as const, body: html }] : [])];
  const hops = c[HOPS_KEY];
  const parsed = MessageSchema.safeParse({
    id: newCanonicalId(),
    nativeIds: [{ network: MATRIX, kind: "event", id: ev.event_id, scope: ev.room_id }],
    from, to,
    authenticatedBy: { method: "network", detail: "application service hs_token" },
    sentAt: new Date(typeof ev.origin_server_ts === "number" ? ev.origin_server_ts : Date.now()).toISOString(),
    kind, parts,
    inReplyTo: isEdit ? undefined : await canonicalOf(d, inReplyToEvent, ev.room_id),
    replaces: isEdit ? await canonicalOf(d, relates.event_id, ev.room_id) : undefined,
    hops: typeof hops === "number" && Number.isInteger(hops) && hops >= 0 && hops <= 255 ? hops : DEFAULT_HOPS,
  });
  if (!parsed.success) {
    d.log.info({ eventId: ev.event_id, issue: parsed.error.issues[0]?.message }, "malformed message");
    tell(`⚠ Not delivered to ${to.address}: the message is malformed.`);
    return;
  }
  const message = parsed.data;
  plan.items.push({
    event: { kind: "message", message },
    onResult: async (r) => {
      if (r.status === "accepted") {
        await d.ctx.ids.link(r.messageId ?? message.id, { network: MATRIX, kind: "event", id: ev.event_id, scope: ev.room_id });
      } else if (r.status === "refused") {
        plan.followups.push(() => noticeInRoom(d, rec.owner, ev.room_id, `⚠ Not delivered to ${to.address}: ${r.error.message || reasonText(r.error.info.reason)}`, ev.event_id));
      }
    },
  });
}

async function roomEvent(d: MatrixDeps, plan: Plan, ev: MatrixEvent): Promise<void> {
  const mappings = d.ctx.mappings();
  if (ev.type === "m.room.member" && typeof ev.state_key === "string") {
    const membership = ev.content.membership;
    if (membership === "invite" && (isOwnUser(ev.state_key, mappings))) {
      const target = ev.state_key;
      plan.followups.push(() => handleInvite(d, ev.room_id, ev.sender, target, ev.content));
      return;
    }
    if (membership === "leave" || membership === "ban") {
      const rec = await d.rooms.record(ev.room_id);
      if (rec && rec.user === ev.state_key) plan.followups.push(() => d.rooms.abandon(ev.room_id));
    }
    return;
  }
  const rec = await d.rooms.record(ev.room_id);
  if (!rec) return;
  if (ev.type === "m.room.encryption" || ev.type === "m.room.encrypted") {
    const who = rec.kind === "dm" ? (endpointOf(d, rec.owner)?.address ?? rec.owner) : "the bridge bot";
    plan.followups.push(async () => {
      if (await d.ctx.state.setIfAbsent(`e2e:${ev.room_id}`, "1", 86_400)) await noticeInRoom(d, rec.owner, ev.room_id, E2E_NOTICE(who));
      await d.rooms.abandon(ev.room_id);
    });
    return;
  }
  if (ev.type !== "m.room.message" || ev.sender !== rec.user) return;
  if (rec.kind === "bot") {
    await handleBotMessage(d, plan, ev, rec);
    return;
  }
  const to = endpointOf(d, rec.owner);
  const from = endpointOf(d, ev.sender);
  if (!to || !from || from.network !== MATRIX) return;
  await messageItem(d, plan, ev, rec, to, from);
}

async function receiptItems(d: MatrixDeps, plan: Plan, ev: Obj): Promise<void> {
  const roomId = ev.room_id;
  if (typeof roomId !== "string" || !isObj(ev.content)) return;
  const rec = await d.rooms.record(roomId);
  if (!rec || rec.kind !== "dm") return;
  const sender = endpointOf(d, rec.owner);
  const reader = endpointOf(d, rec.user);
  if (!sender || !reader) return;
  for (const [eventId, receipt] of Object.entries(ev.content)) {
    if (!isObj(receipt) || !isObj(receipt["m.read"]) || !(rec.user in receipt["m.read"])) continue;
    const messageId = await canonicalOf(d, eventId, roomId);
    if (messageId === undefined) continue;
    plan.items.push({ event: { kind: "delivery-status", status: {
      messageId, sender, recipient: reader, state: "displayed", at: new Date().toISOString(), extensions: {},
    } } });
  }
}

/** Build the plan of one transaction. `events` are already deduplicated by event id. */
export async function planTransaction(d: MatrixDeps, events: readonly MatrixEvent[], ephemeral: readonly Obj[]): Promise<Plan> {
  const plan: Plan = { items: [], followups: [] };
  const mappings = d.ctx.mappings();
  for (const ev of events) {
    if (isOwnUser(ev.sender, mappings)) continue; // Parley's own puppets and bot: recognised by id
    const size = Buffer.byteLength(JSON.stringify(ev));
    if (size > d.config.maxEventBytes) {
      d.log.info({ eventId: ev.event_id, size }, "event over the size limit");
      const rec = await d.rooms.record(ev.room_id);
      if (rec) plan.followups.push(() => noticeInRoom(d, rec.owner, ev.room_id, `⚠ Not delivered: the message has ${size} bytes, more than ${d.config.maxEventBytes}.`, ev.event_id));
      continue;
    }
    await roomEvent(d, plan, ev);
  }
  for (const e of ephemeral) {
    if (e.type === "m.presence" && typeof e.sender === "string" && !isOwnUser(e.sender, mappings)) {
      const who = endpointOf(d, e.sender);
      const p = who && who.network === MATRIX && isObj(e.content) ? presenceFromMatrix(who, e.content) : undefined;
      if (p) plan.items.push({ event: p });
    } else if (e.type === "m.receipt") {
      await receiptItems(d, plan, e);
    }
  }
  return plan;
}
