/**
 * Catch-up (issue 10): events the homeserver accepted from its users but never pushed to the
 * application service. Synapse advances its application-service stream position before the
 * transaction holding those events is stored; when it is stopped in that instant the events are
 * never pushed after its restart (measured: 2 Matrix → XMPP messages per `synapse-stopped` fault,
 * acknowledged to the sender, never delivered, never reported).
 *
 * So the rooms Parley was pushed events of are kept as recently active (a sorted set by time in
 * the adapter state, with the last event pushed of each), and when the homeserver answers again
 * after being unreachable — and at start, Parley itself may have been down — each room's history
 * after that event is read forward and fed through the same path as a pushed transaction
 * (`Transactions.feed`): events already processed are recognised by their `ev:<event_id>` claim
 * and skipped, so nothing is delivered twice, and what Synapse still pushes later is skipped too.
 * One catch-up at a time per deployment (a lease held while it runs); bounded in rooms and events
 * per room; once per recovery of the homeserver and once at start, never in a loop.
 */
import { randomBytes } from "node:crypto";
import type { MatrixDeps } from "./deps.js";
import { eventsAfter } from "./history.js";
import type { MatrixEvent } from "./types.js";
import { errorMessage } from "../../src/errors/message.js";

/** The sorted set of recently active rooms (room id → last time Parley was pushed one of its events). */
export const RECENT_ROOMS = "catchup-rooms";
const LEASE = "catchup";
/** Held while a catch-up runs (renewed per room): another process noticing the same recovery meanwhile skips its own. */
const LEASE_MS = 60_000;
/** A room is noted at most once per this time per process (the catch-up then reads a little more, all deduplicated). */
const NOTE_EVERY_MS = 1_000;
/** The last event pushed of a room, read from by the catch-up. */
const lastKey = (roomId: string) => `catchup-last:${roomId}`;
const TRIM_EVERY_MS = 60_000;

/** Feeds events through the transaction path; how many were new. */
export type Feed = (label: string, events: readonly MatrixEvent[]) => Promise<number>;

/** Keeps the rooms of pushed events as recently active, cheaply (throttled per room, pruned by time). */
export class RoomActivity {
  private readonly noted = new Map<string, number>();
  private trimmedAt = 0;

  constructor(private readonly d: Pick<MatrixDeps, "ctx" | "config" | "log">) {}

  /** `lastEvents`: room id → the last event of that room in a pushed transaction. */
  note(lastEvents: ReadonlyMap<string, string>, now = Date.now()): void {
    const s = this.d.ctx.state;
    const windowS = this.d.config.catchUp.windowSeconds;
    if (s.recentAdd === undefined || windowS === 0) return;
    if (this.noted.size > 10_000) this.noted.clear();
    for (const [room, eventId] of lastEvents) {
      if ((this.noted.get(room) ?? 0) > now - NOTE_EVERY_MS) continue;
      this.noted.set(room, now);
      Promise.all([s.set(lastKey(room), eventId, windowS), s.recentAdd(RECENT_ROOMS, room, now)])
        .catch((e: unknown) => this.d.log.debug({ err: errorMessage(e) }, "room activity not noted"));
    }
    if (this.trimmedAt < now - TRIM_EVERY_MS && s.recentTrim !== undefined) {
      this.trimmedAt = now;
      s.recentTrim(RECENT_ROOMS, now - this.d.config.catchUp.windowSeconds * 1000).catch(() => undefined);
    }
  }
}

export interface CatchUpCounters {
  /** Events read back that Parley had not processed (not pushed yet, or never: lost by the homeserver): fed now. */
  readonly caughtUp?: { inc(n?: number): void };
  /** Rooms whose history could not be read or fed (the next catch-up tries again). */
  readonly roomsFailed?: { inc(n?: number): void };
}

export interface CatchUpResult {
  readonly rooms: number;
  readonly read: number;
  readonly caughtUp: number;
  readonly failed: number;
}

export class CatchUp {
  private running: Promise<CatchUpResult | undefined> | undefined;
  private stopped = false;
  /**
   * Set at start and when the homeserver stops answering: the next transaction waits for a
   * catch-up first, so events it missed are fed before the live ones after them (room order).
   */
  private due = true;
  private readonly holder = `catchup-${process.pid}-${randomBytes(4).toString("hex")}`;

  constructor(private readonly d: MatrixDeps, private readonly feed: Feed, private readonly counters: CatchUpCounters = {}) {}

  /** One catch-up (joined when one is running here; skipped when another process just ran one). */
  run(reason: string): Promise<CatchUpResult | undefined> {
    if (this.stopped) return Promise.resolve(undefined);
    this.due = false;
    this.running ??= this.once(reason).finally(() => { this.running = undefined; });
    return this.running;
  }

  /** The homeserver stopped answering: a catch-up is due when it answers again. */
  markDue(): void {
    this.due = true;
  }

  /** Before a pushed transaction: the catch-up running, or the one due, first. */
  async before(): Promise<void> {
    if (this.running) await this.running;
    else if (this.due) await this.run("a transaction after an outage");
  }

  /** No new catch-up, and the running one stops after its current room (a graceful stop). */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  private async once(reason: string): Promise<CatchUpResult | undefined> {
    const d = this.d;
    const s = d.ctx.state;
    const c = d.config.catchUp;
    if (s.recentRange === undefined || c.windowSeconds === 0) return undefined;
    let held = false;
    try {
      held = await s.lease(LEASE, this.holder, LEASE_MS);
      if (!held) {
        d.log.info({ reason }, "matrix catch-up skipped: another process is running one");
        return undefined;
      }
      const now = Date.now();
      const rooms = await s.recentRange(RECENT_ROOMS, now - c.windowSeconds * 1000, now, c.maxRooms);
      const result = { rooms: rooms.length, read: 0, caughtUp: 0, failed: 0 };
      // Oldest activity first: the rooms quiet longest lost their events earliest.
      for (const [room] of [...rooms].reverse()) {
        if (this.stopped || !(await s.lease(LEASE, this.holder, LEASE_MS))) break;
        await this.room(room, result);
      }
      d.log.info({ event: "matrix-catch-up", reason, ...result }, result.caughtUp > 0 ? "matrix catch-up delivered events the homeserver had not pushed" : "matrix catch-up found nothing missed");
      return result;
    } catch (e) {
      d.log.warn({ reason, err: errorMessage(e) }, "matrix catch-up failed");
      return undefined;
    } finally {
      if (held) await s.releaseLease(LEASE, this.holder).catch(() => undefined);
    }
  }

  private async room(roomId: string, result: { read: number; caughtUp: number; failed: number }): Promise<void> {
    const d = this.d;
    try {
      const last = await d.ctx.state.get(lastKey(roomId));
      if (last === undefined) return;
      const reader = (await d.rooms.record(roomId))?.owner ?? d.bot;
      const { events } = await eventsAfter(d, roomId, reader, last, d.config.catchUp.maxEventsPerRoom);
      result.read += events.length;
      if (events.length === 0) return;
      const fresh = await this.feed(`catch-up ${roomId}`, events);
      result.caughtUp += fresh;
      if (fresh > 0) {
        this.counters.caughtUp?.inc(fresh);
        d.log.info({ event: "matrix-catch-up-room", roomId, read: events.length, caughtUp: fresh }, "events the homeserver had not pushed, delivered from the room's history");
      }
    } catch (e) {
      result.failed++;
      this.counters.roomsFailed?.inc();
      d.log.warn({ roomId, err: errorMessage(e) }, "matrix catch-up could not read or feed a room");
    }
  }
}
