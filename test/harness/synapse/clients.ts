/**
 * Real Matrix clients for e2e tests: matrix-js-sdk doing /sync as a registered user, joining
 * invites (like a user accepting a DM), with "wait for this" helpers — no sleeps.
 */
import {
  ClientEvent, createClient, Method, RoomEvent, RoomMemberEvent, UserEvent, type MatrixClient, type MatrixEvent, type Room,
} from "matrix-js-sdk";
import { logger as sdkGlobalLogger, type Logger } from "matrix-js-sdk/lib/logger.js";
import { registerUser, type RegisteredUser } from "./synapse.js";

// Parts of the SDK (MatrixRTC) log through children of the global loglevel logger whatever the
// client's logger is; children copy its method factory, so a silent factory silences them all.
const sdkRoot = sdkGlobalLogger as unknown as { methodFactory: () => () => void; rebuild(): void };
sdkRoot.methodFactory = () => () => undefined;
sdkRoot.rebuild();

const quiet: Logger = { trace: () => {}, debug: () => {}, info: () => {}, warn: () => {}, error: () => {}, getChild: () => quiet };

export interface Waiter<T> { match: (x: T) => boolean; resolve: (x: T) => void }

function waitFor<T>(seen: T[], waiters: Array<Waiter<T>>, match: (x: T) => boolean, timeoutMs: number, what: string): Promise<T> {
  const hit = seen.find(match);
  if (hit !== undefined) return Promise.resolve(hit);
  return new Promise<T>((resolve, reject) => {
    const w: Waiter<T> = { match, resolve: (x) => { clearTimeout(timer); resolve(x); } };
    const timer = setTimeout(() => {
      waiters.splice(waiters.indexOf(w), 1);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    waiters.push(w);
  });
}

function notify<T>(seen: T[], waiters: Array<Waiter<T>>, x: T): void {
  seen.push(x);
  for (const w of [...waiters]) {
    if (w.match(x)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(x);
    }
  }
}

export interface PresenceSeen { userId: string; presence: string; statusMsg: string | undefined }

export class TestMatrixUser {
  readonly client: MatrixClient;
  readonly events: MatrixEvent[] = [];
  private readonly eventWaiters: Array<Waiter<MatrixEvent>> = [];
  readonly presences: PresenceSeen[] = [];
  private readonly presenceWaiters: Array<Waiter<PresenceSeen>> = [];
  readonly joinedRooms = new Set<string>();
  /** Read receipts seen in /sync: (room, event, reader). */
  readonly receipts: Array<{ roomId: string; eventId: string; userId: string }> = [];
  private readonly receiptWaiters: Array<Waiter<{ roomId: string; eventId: string; userId: string }>> = [];

  constructor(readonly baseUrl: string, readonly user: RegisteredUser, opts: { autoJoin?: boolean } = {}) {
    this.client = createClient({ baseUrl, accessToken: user.accessToken, userId: user.userId, deviceId: user.deviceId, logger: quiet });
    this.client.on(RoomEvent.Timeline, (event: MatrixEvent, room: Room | undefined) => {
      if (room) notify(this.events, this.eventWaiters, event);
    });
    this.client.on(RoomEvent.Receipt, (event: MatrixEvent, room: Room) => {
      for (const [eventId, types] of Object.entries(event.getContent<Record<string, Record<string, Record<string, unknown>>>>())) {
        for (const userId of Object.keys(types["m.read"] ?? {})) notify(this.receipts, this.receiptWaiters, { roomId: room.roomId, eventId, userId });
      }
    });
    this.client.on(UserEvent.Presence, (_e: MatrixEvent | undefined, u) => {
      notify(this.presences, this.presenceWaiters, { userId: u.userId, presence: u.presence, statusMsg: u.presenceStatusMsg });
    });
    if (opts.autoJoin ?? true) {
      this.client.on(RoomMemberEvent.Membership, (_e, member) => {
        if (member.userId === user.userId && member.membership === "invite" && !this.joinedRooms.has(member.roomId)) {
          this.joinedRooms.add(member.roomId);
          void this.client.joinRoom(member.roomId).catch(() => this.joinedRooms.delete(member.roomId));
        }
      });
    }
  }

  get userId(): string { return this.user.userId; }

  /** Start /sync and resolve once the first sync is done. */
  async start(): Promise<void> {
    const ready = new Promise<void>((resolve) => {
      const on = (state: string) => {
        if (state === "PREPARED" || state === "SYNCING") {
          this.client.off(ClientEvent.Sync, on);
          resolve();
        }
      };
      this.client.on(ClientEvent.Sync, on);
    });
    await this.client.startClient({ initialSyncLimit: 20, lazyLoadMembers: false });
    await ready;
  }

  stop(): void {
    this.client.stopClient();
    this.client.removeAllListeners();
  }

  /** The first timeline event (seen or future) matching. */
  waitForEvent(match: (e: MatrixEvent) => boolean, timeoutMs = 20_000, what = "a matching event"): Promise<MatrixEvent> {
    return waitFor(this.events, this.eventWaiters, match, timeoutMs, what);
  }

  /** A message whose body contains `text`, optionally from `sender`. */
  waitForMessage(text: string, sender?: string, timeoutMs = 20_000): Promise<MatrixEvent> {
    return this.waitForEvent((e) => e.getType() === "m.room.message" && String(e.getContent().body ?? "").includes(text) && (sender === undefined || e.getSender() === sender), timeoutMs, `a message "${text}"`);
  }

  waitForPresence(userId: string, presence: string, timeoutMs = 20_000): Promise<PresenceSeen> {
    return waitFor(this.presences, this.presenceWaiters, (p) => p.userId === userId && p.presence === presence, timeoutMs, `${userId} ${presence}`);
  }

  waitForReceipt(eventId: string, userId: string, timeoutMs = 20_000): Promise<{ roomId: string; eventId: string; userId: string }> {
    return waitFor(this.receipts, this.receiptWaiters, (r) => r.eventId === eventId && r.userId === userId, timeoutMs, `${userId}'s read receipt on ${eventId}`);
  }

  /** Send a text message; resolves with the event id. */
  async say(roomId: string, content: Record<string, unknown>): Promise<string> {
    const txn = `t${Date.now()}${Math.random().toString(36).slice(2)}`;
    const res = await this.client.http.authedRequest<{ event_id: string }>(Method.Put, `/rooms/${encodeURIComponent(roomId)}/send/m.room.message/${txn}`, undefined, content);
    return res.event_id;
  }
}

/** Register `name` and start a syncing client for it. */
export async function startUser(baseUrl: string, sharedSecret: string, name: string, opts: { autoJoin?: boolean } = {}): Promise<TestMatrixUser> {
  const reg = await registerUser(baseUrl, sharedSecret, name);
  const u = new TestMatrixUser(baseUrl, reg, opts);
  await u.start();
  return u;
}

/** A unique user name for this run. */
export function uniqueName(base: string): string {
  return `${base}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}
