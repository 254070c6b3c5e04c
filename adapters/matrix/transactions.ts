/**
 * `PUT /_matrix/app/v1/transactions/{txnId}` (Matrix spec, Application Service API "Pushing
 * events"; RFC 2779 2.5.2, 5.4.2): answered 200 only once every event is durably accepted.
 *
 * - A repeated transaction is acknowledged without reprocessing. The fast-path key is the txnId
 *   *and* a digest of the body, because Synapse can restart its txn ids at 1 after a restart
 *   (matrix-org/synapse#14556): a reused id with new events is processed, not skipped.
 * - Every event is deduplicated by `event_id` in the adapter state (Redis), for ≥ 1 day: claimed
 *   as `pending` before accept, `done` after; an event another request is still processing makes
 *   this one answer 503 so the homeserver retries (never a 200 for an event not yet stored).
 *   A `pending` claim lives {@link PENDING_TTL_S} and is renewed while its request runs, so the
 *   claims of a process killed mid-transaction lapse within seconds (issue 10: with 120 s they
 *   refused the homeserver's retries for two minutes, and Synapse's doubling back-off made that
 *   minutes more of Matrix → XMPP standing still). A request that finds an event claimed waits
 *   for the claim to be done or to lapse (up to {@link BUSY_WAIT_MS}) before it answers 503: the
 *   homeserver's first retry after a `kill -9` (Synapse: 2 s later) and the restarted process's
 *   ping-forced retry came while the dead process's claims still lived, and each 503 doubled
 *   Synapse's back-off (2, 4, 8 s): Matrix → XMPP stood still 13–14 s after the kill.
 * - All canonical events of a transaction go to the core in one `ctx.accept` call.
 * - Synapse numbers its transactions 1, 2, 3… and sends them one at a time, in order; a pushed id
 *   more than one past the last one seen (kept in Redis: every process of the deployment) means a
 *   transaction was skipped, and a catch-up runs before this one (`onSkipped`, catch-up.ts). Synapse
 *   1.x skips one when a transaction is created in the instant its recoverer finishes (scheduler.py:
 *   `send` read the service as down, `retry` found no unsent transaction left and marked it up):
 *   stored, never sent, never retried — in the chaos run a Matrix → XMPP message sent then was
 *   lost silently (transaction 62 of `kill9-parley`, 2026-12-07).
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import type { MatrixDeps } from "./deps.js";
import { isOwnUser } from "./address.js";
import { planTransaction, skipEvent } from "./inbound.js";
import { MAX_EVENT_DEPTH, nestsDeeperThan, isObj } from "./untrusted.js";
import { MatrixEventSchema, type HttpReply, type MatrixEvent } from "./types.js";
import { errorMessage } from "../../src/errors/message.js";

const TransactionSchema = z.object({
  events: z.array(z.unknown()).default([]),
  ephemeral: z.array(z.unknown()).optional(),
  "de.sorunome.msc2409.ephemeral": z.array(z.unknown()).optional(),
}).loose();


/** How long a `pending` claim outlives a process that stopped renewing it (killed); renewed every quarter of it. */
export const PENDING_TTL_S = 2;
/** How long a request waits for events another request claimed (done, or lapsed: its process died) before answering 503. */
export const BUSY_WAIT_MS = PENDING_TTL_S * 1000 + 1000;
const BUSY_POLL_MS = 100;
/** The id of the last pushed transaction (a decimal number with Synapse). */
const LAST_TXN = "txn-last";
const SYNAPSE_TXN = /^\d{1,15}$/;

/** Whether `txnId` is more than one past `last` (both Synapse's numbers). */
function skipsOne(txnId: string, last: string | undefined): boolean {
  return last !== undefined && SYNAPSE_TXN.test(txnId) && SYNAPSE_TXN.test(last) && Number(txnId) > Number(last) + 1;
}

/**
 * Keep `keys` claimed as `pending` while a request works on them: renewed every quarter of the TTL.
 * The returned stop waits for a renewal in flight, so nothing writes `pending` after it resolves
 * (the caller then writes `done` or deletes the claims).
 */
export function holdPending(state: MatrixDeps["ctx"]["state"], keys: readonly string[], ttlS = PENDING_TTL_S): () => Promise<void> {
  let inflight: Promise<unknown> = Promise.resolve();
  const timer = keys.length === 0 ? undefined : setInterval(() => {
    inflight = Promise.all(keys.map((k) => state.set(k, "pending", ttlS))).catch(() => undefined);
  }, Math.max(100, (ttlS * 1000) / 4));
  timer?.unref();
  return async () => {
    clearInterval(timer);
    await inflight;
  };
}

export class Transactions {
  private chain: Promise<void> = Promise.resolve();
  /** The tail of this process's transactions and catch-ups, run one at a time. */
  private turn: Promise<void> = Promise.resolve();

  /** `onActivity`: the rooms a transaction carried events of, each with its last (catch-up.ts keeps them as recently active). */
  constructor(private readonly d: MatrixDeps, private readonly onActivity?: (lastEvents: ReadonlyMap<string, string>) => void) {}

  /** Awaited before each pushed transaction is processed (catch-up.ts: missed events go first). */
  before: (() => Promise<void>) | undefined;
  /** A pushed transaction's id skipped one: called before {@link before} (catch-up.ts: a catch-up is due). */
  onSkipped: (() => void) | undefined;

  /** Resolves when every side effect queued so far has run (used by stop()). */
  settled(): Promise<void> {
    return this.chain;
  }

  async handle(txnId: string, raw: Buffer): Promise<HttpReply> {
    const d = this.d;
    let parsed: z.infer<typeof TransactionSchema>;
    try {
      parsed = TransactionSchema.parse(JSON.parse(raw.toString("utf8")));
    } catch {
      return { status: 400, body: { errcode: "M_NOT_JSON", error: "the transaction is not valid JSON" } };
    }
    const txnKey = `txn:${txnId}:${createHash("sha256").update(raw).digest("base64url")}`;
    // The last id pushed is read alongside (one round trip): a skipped one is checked below.
    const [seen, lastTxn] = await Promise.all([d.ctx.state.get(txnKey), d.ctx.state.get(LAST_TXN).catch(() => undefined)]);
    if (seen !== undefined) return { status: 200, body: {} };

    const events: MatrixEvent[] = [];
    const ids = new Set<string>();
    const mappings = d.ctx.mappings();
    const unusable: Array<{ ev: Record<string, unknown>; why: string }> = [];
    for (const e of parsed.events) {
      // Depth first: nothing recursive (zod, JSON.stringify, the sanitiser) sees a deep event.
      if (nestsDeeperThan(e, MAX_EVENT_DEPTH)) {
        unusable.push({ ev: isObj(e) ? e : {}, why: `the event nests deeper than ${MAX_EVENT_DEPTH} levels` });
        continue;
      }
      const ev = MatrixEventSchema.safeParse(e);
      if (!ev.success) unusable.push({ ev: isObj(e) ? e : {}, why: `the event is malformed (${ev.error.issues[0]?.path.join(".") ?? ""}: ${ev.error.issues[0]?.message ?? ""})` });
      else if (isOwnUser(ev.data.sender, mappings)) continue; // Parley's own sends: no claim, no work
      else if (!ids.has(ev.data.event_id)) {
        ids.add(ev.data.event_id);
        events.push(ev.data);
      }
    }
    const ephemeral = (parsed.ephemeral ?? parsed["de.sorunome.msc2409.ephemeral"] ?? []).filter((e) => isObj(e) && !nestsDeeperThan(e, MAX_EVENT_DEPTH)) as Array<Record<string, unknown>>;
    if (skipsOne(txnId, lastTxn)) {
      d.log.warn({ txnId, last: lastTxn }, "the homeserver skipped a transaction (stored, never sent): catching up from room history first");
      this.onSkipped?.();
    }
    await this.before?.();
    const out = await this.serially(() => this.process(txnId, events, unusable, ephemeral));
    if (out.fresh < 0) return out.reply;
    this.noteRooms(parsed.events);
    // Written with the dedupe key (one round trip), so a transaction retried after a crash is no gap; lower ids too: a restarted Synapse may number from 1 again.
    await Promise.all([
      d.ctx.state.set(txnKey, "1", d.config.dedupeTtlSeconds).catch(() => undefined),
      ...(SYNAPSE_TXN.test(txnId) ? [d.ctx.state.set(LAST_TXN, txnId, d.config.dedupeTtlSeconds).catch(() => undefined)] : []),
    ]);
    return out.reply;
  }

  /**
   * Events Parley was never pushed (catch-up.ts): through the same claim, plan and accept as a
   * pushed transaction, after the transactions of this process already running. Parley's own
   * events are skipped as in a transaction. Returns how many were new (not yet processed here or
   * being processed elsewhere); throws when they could not be stored (the next catch-up retries).
   */
  async feed(label: string, events: readonly MatrixEvent[]): Promise<number> {
    const mappings = this.d.ctx.mappings();
    const fresh = events.filter((ev) => !isOwnUser(ev.sender, mappings));
    const out = await this.serially(() => this.process(label, fresh, [], []));
    if (out.fresh < 0) throw new Error(`${label}: events not accepted (${String(out.reply.body.error)})`);
    this.noteRooms(events);
    return out.fresh;
  }

  /** Run `f` after what this process is already handling (one transaction or catch-up at a time: events keep their order). */
  private serially<T>(f: () => Promise<T>): Promise<T> {
    const run = this.turn.then(f);
    this.turn = run.then(() => undefined, () => undefined);
    return run;
  }

  /** The rooms of a transaction had activity now, up to their last event (catch-up.ts reads on from there after an outage). */
  private noteRooms(raw: readonly unknown[]): void {
    const last = new Map<string, string>();
    for (const e of raw) if (isObj(e) && typeof e.room_id === "string" && typeof e.event_id === "string" && e.room_id.length <= 255 && e.event_id.length <= 255) last.set(e.room_id, e.event_id);
    if (last.size > 0) this.onActivity?.(last);
  }

  /** Claim, plan and accept deduplicated events; `fresh` is how many were new, -1 when not accepted. */
  private async process(txnId: string, events: readonly MatrixEvent[], unusable: ReadonlyArray<{ ev: Record<string, unknown>; why: string }>, ephemeral: ReadonlyArray<Record<string, unknown>>): Promise<{ reply: HttpReply; fresh: number }> {
    const d = this.d;
    const retry = (error: string) => ({ reply: { status: 503, body: { errcode: "M_UNKNOWN", error } }, fresh: -1 });
    let claim: MatrixEvent[] | "busy";
    try {
      claim = await this.claimWaiting(events);
    } catch (e) {
      d.log.warn({ txnId, err: errorMessage(e) }, "transaction's events could not be claimed; the homeserver will retry");
      return retry("the gateway cannot store events right now; retry later");
    }
    if (claim === "busy") return retry("events of this transaction are being processed; retry");
    const hold = holdPending(d.ctx.state, claim.map((ev) => `ev:${ev.event_id}`));
    try {
      const plan = await planTransaction(d, claim, ephemeral);
      for (const u of unusable) await skipEvent(d, plan, u.ev, u.why);
      if (plan.items.length > 0) {
        const results = await d.ctx.accept(plan.items.map((i) => i.event));
        for (const [i, r] of results.entries()) await plan.items[i]?.onResult?.(r);
      }
      await hold();
      await Promise.all(claim.map((ev) => d.ctx.state.set(`ev:${ev.event_id}`, "done", d.config.dedupeTtlSeconds)));
      for (const f of plan.followups) this.chain = this.chain.then(f).catch((e: unknown) => d.log.warn({ txnId, err: errorMessage(e) }, "follow-up failed"));
      d.log.debug({ txnId, events: events.length, fresh: claim.length, accepted: plan.items.length }, "transaction");
      return { reply: { status: 200, body: {} }, fresh: claim.length };
    } catch (e) {
      await hold();
      await this.release(claim);
      d.log.warn({ txnId, err: errorMessage(e) }, "transaction not accepted; the homeserver will retry");
      return retry("the gateway cannot store events right now; retry later");
    }
  }

  /** {@link claim}, again every {@link BUSY_POLL_MS} while another request holds one of the events, up to {@link BUSY_WAIT_MS}. */
  private async claimWaiting(events: readonly MatrixEvent[]): Promise<MatrixEvent[] | "busy"> {
    const deadline = Date.now() + BUSY_WAIT_MS;
    for (;;) {
      const claim = await this.claim(events);
      if (claim !== "busy" || Date.now() >= deadline) return claim;
      await new Promise((r) => setTimeout(r, BUSY_POLL_MS));
    }
  }

  /**
   * Claim each event id; the fresh ones, or "busy" when another request holds one. When Redis
   * fails part-way, the claims already taken are released before the error goes up, so the
   * homeserver's retry of this transaction is not refused as "busy" until they expire.
   */
  private async claim(events: readonly MatrixEvent[]): Promise<MatrixEvent[] | "busy"> {
    const s = this.d.ctx.state;
    const got = await Promise.allSettled(events.map((ev) => s.setIfAbsent(`ev:${ev.event_id}`, "pending", PENDING_TTL_S)));
    const fresh = events.filter((_, i) => { const r = got[i]; return r?.status === "fulfilled" && r.value; });
    const taken = events.filter((_, i) => { const r = got[i]; return r?.status === "fulfilled" && !r.value; });
    try {
      const failed = got.find((r): r is PromiseRejectedResult => r.status === "rejected");
      if (failed !== undefined) throw failed.reason;
      const states = await Promise.all(taken.map((ev) => s.get(`ev:${ev.event_id}`)));
      if (!states.some((v) => v !== "done" && v !== undefined)) return fresh;
    } catch (e) {
      await this.release(fresh);
      throw e;
    }
    await this.release(fresh);
    return "busy";
  }

  private async release(claimed: readonly MatrixEvent[]): Promise<void> {
    await Promise.all(claimed.map((ev) => this.d.ctx.state.delete(`ev:${ev.event_id}`))).catch(() => undefined);
  }
}
