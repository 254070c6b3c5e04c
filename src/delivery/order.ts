/**
 * Per-conversation order on BullMQ's open-source edition (DESIGN §3 "Order"), which has no groups.
 *
 * Design. Every job of an ordered conversation is an ordinary job in its (kind, network) queue,
 * so retries, stalls, pause and the failed set work as BullMQ does them; order comes from a Redis
 * list per conversation, `ord`, of job ids in enqueue order, and a set `park` of the
 * conversation's jobs that wait for their turn in BullMQ's delayed set. Only a conversation's
 * head is ever in the wait list, so workers never pick up a job out of turn in the normal course:
 *
 * - **enqueue** (BullMQ's add, then REGISTER, in one MULTI): REGISTER appends the new job's id
 *   to `ord`; the head (a job for an idle conversation) simply stays waiting, any later job is
 *   *parked* there and then: moved to the delayed set (for `parkMs`, the safety net below) and put
 *   in `park`. So a job exists iff its place in line does (no hole, no ghost) even across a crash
 *   or `kill -9` of Redis with AOF. A key already present as a job is not appended again (the add
 *   is a no-op too).
 * - **begin**: a worker runs a job only when it is the head of `ord` (it leaves `park`).
 *   Otherwise (a safety-net wake-up, a race) it *parks* it again (`moveToDelayed` + DelayedError,
 *   then WAKE re-checks the head, see the race below). Only the conversation's own later jobs
 *   wait; other conversations never see this job (no head-of-line blocking across conversations —
 *   a job in retry backoff sits in BullMQ's delayed set, not in `park`, and holds back exactly its
 *   successors).
 * - **done** (success or final failure) removes the job from `ord` and, in the same script, moves
 *   the new head to the back of the wait list if it is parked: one round trip, no polling.
 *   Waking a head is `promote` (bullmq.ts PROMOTE_LUA): only a job both in `park` and in the
 *   delayed set is moved, so a job in retry backoff keeps its backoff, and a head woken twice is
 *   moved once. The back of the wait list is fair: it holds only other conversations' heads.
 * - A parked job also wakes after a timeout — at enqueue `parkMs` times the jobs ahead of it,
 *   after that `parkMs` doubling per park, up to `parkMaxMs` —: a safety net only (a head that
 *   vanished without handing on), cheap even for a long backlog.
 * - Race: a job can decide to park just before its predecessor finishes, so the predecessor's
 *   done finds it still active and cannot wake it. After `moveToDelayed`, WAKE wakes the head
 *   (the job itself, if it became the head meanwhile); one of the two always finds it delayed. A
 *   worker dying between its send and *done* leaves the job active; its re-run after the stall
 *   finds the sent marker (or sends again: the crash window, runner.ts), passes by the line and
 *   wakes the head.
 * - **hand-on**: a job the adapter has *written* on an ordered connection (XMPP's component
 *   stream) but whose confirmation is still to come is put in `hand` (id → the connection's
 *   channel) and the turn passes on at once: the conversation's *effective* head is the first job
 *   in `ord` not in `hand`, so the next message is written while the previous one's confirmation
 *   is on its way (one round trip per window of messages, not per message). The handed job stays
 *   in `ord` and active until its confirmation: only then done (marker, completed). BEGIN tells the
 *   next job the channel its handed predecessors went out on (`after`), and the adapter writes it
 *   only on that same connection: if the connection dies, every handed job on it fails its
 *   confirmation, leaves `hand` (UNHAND, or BEGIN of its retry) and is the effective head again,
 *   so the retries go out in order, and nothing unconfirmed is ever reported sent. A handed job
 *   whose worker died is re-run after the stall and leaves `hand` at its BEGIN.
 * - A head whose job no longer exists or sits in the failed set (e.g. removed by age, or a stalled
 *   job failed without finalising) is skipped whenever the line is looked at, so a conversation
 *   can never be stuck behind a ghost.
 *
 * Why not the alternatives: a queue per conversation explodes keys and workers (RFC 2779 2.2.3); a
 * single "pump" job per conversation breaks the one-job-per-(message, target) model the failed set
 * and the admin rely on; sequence numbers need the same atomic add and a second map from number to
 * job, where the list is both. An earlier version added every job waiting and parked the ones
 * workers met out of turn: each message of a busy conversation was then picked up twice, and a
 * woken head queued behind its own conversation's backlog (issue 12: half the throughput).
 *
 * Redis Cluster: `ord`, `park` and `hand` are named after the queue's hash tag (runner.ts deliveryKeys),
 * and the scripts touch only those, the sent marker and the queue's own keys: one slot.
 */
import type { ChainableCommander } from "ioredis";
import { PROMOTE_LUA, type RedisClient } from "./bullmq.js";

/**
 * Shared functions. `qp` is the BullMQ queue's key prefix (`<prefix>:<queue>:`): job hashes and
 * the failed set. `head` drops ghosts from the front of the line; `wake` promotes the head if it
 * is parked and in the delayed set, and returns it ('' when nothing was woken).
 */
const LINE = `${PROMOTE_LUA}
local function live(qp, id)
  return redis.call('EXISTS', qp .. id) == 1 and not redis.call('ZSCORE', qp .. 'failed', id)
end
local function head(ord, park, hand, qp)
  local i = 0
  while true do
    local h = redis.call('LINDEX', ord, i)
    if not h then return h end
    if not live(qp, h) then
      redis.call('LREM', ord, 1, h)
      redis.call('ZREM', park, h)
      redis.call('HDEL', hand, h)
    elseif redis.call('HEXISTS', hand, h) == 1 then
      i = i + 1
    else
      return h
    end
  end
end
local function wake(ord, park, hand, qp)
  local h = head(ord, park, hand, qp)
  if h and redis.call('ZSCORE', park, h) and promote(qp, h) == 1 then return h end
  return ''
end
local function advance(ord, park, hand, qp, id)
  redis.call('LREM', ord, 1, id)
  redis.call('ZREM', park, id)
  redis.call('HDEL', hand, id)
  return wake(ord, park, hand, qp)
end
`;

/**
 * KEYS ord, park, hand; ARGV id, qp, parkMs, parkMaxMs. Right after BullMQ's add of an ordered job: a
 * job this add created (at the front of the wait list's push end, not yet in line) is appended;
 * unless it is the head (an idle conversation: it just stays waiting), it is parked — moved to the
 * delayed set for the safety net, parkMs times the number of jobs ahead of it (up to parkMaxMs:
 * it cannot run before they have, and a long backlog must not wake up by timer) — and a parked
 * head is woken. A job that already existed (BullMQ's
 * add was a no-op: in line already, or finished and kept for the admin) is left as it is, and a
 * failed add (no job) gets no place. Returns the line's length after the append (0: not
 * appended), for the backlog bound (enqueue.ts).
 */
const REGISTER = `${LINE}
local id, qp = ARGV[1], ARGV[2]
if redis.call('LINDEX', qp .. 'wait', 0) ~= id or redis.call('LPOS', KEYS[1], id) then return 0 end
local n = redis.call('RPUSH', KEYS[1], id)
if head(KEYS[1], KEYS[2], KEYS[3], qp) ~= id then
  redis.call('ZADD', KEYS[2], 0, id)
  park(qp, id, math.min(tonumber(ARGV[4]), tonumber(ARGV[3]) * (n - 1)))
  wake(KEYS[1], KEYS[2], KEYS[3], qp)
end
return n`;

/** KEYS ord, park, hand; ARGV qp. Wake the head if it is parked (after a park's moveToDelayed). */
const WAKE = `${LINE}
return wake(KEYS[1], KEYS[2], KEYS[3], ARGV[1])`;

/**
 * KEYS ord, park, sentMarker, hand; ARGV id, qp. Returns {verdict, woken, after}: `after` is the
 * channel of the handed jobs ahead of this one ('' none; '!' several: no connection matches).
 * A job found in `hand` is a re-run (its confirmation failed, or its worker died): back in line.
 */
const BEGIN = `${LINE}
local id = ARGV[1]
if redis.call('EXISTS', KEYS[3]) == 1 then return {'sent', advance(KEYS[1], KEYS[2], KEYS[4], ARGV[2], id), ''} end
redis.call('HDEL', KEYS[4], id)
local pos = redis.call('LPOS', KEYS[1], id)
if not pos or head(KEYS[1], KEYS[2], KEYS[4], ARGV[2]) == id then
  redis.call('ZREM', KEYS[2], id)
  local after = ''
  pos = redis.call('LPOS', KEYS[1], id)
  if pos and pos > 0 then
    for _, b in ipairs(redis.call('LRANGE', KEYS[1], 0, pos - 1)) do
      local c = redis.call('HGET', KEYS[4], b)
      if c then
        if after == '' then after = c elseif after ~= c then after = '!' end
      end
    end
  end
  return {'go', '', after}
end
redis.call('ZADD', KEYS[2], 0, id)
return {'park', wake(KEYS[1], KEYS[2], KEYS[4], ARGV[2]), ''}`;

/** KEYS ord, park, marker, hand; ARGV id, ttlSeconds, ordered(1|0), qp. Sets the marker, hands the turn on. */
const DONE = `${LINE}
redis.call('SET', KEYS[3], '1', 'EX', ARGV[2])
if ARGV[3] == '1' then return advance(KEYS[1], KEYS[2], KEYS[4], ARGV[4], ARGV[1]) end
return ''`;

/**
 * KEYS ord, park, hand; ARGV id, channel, qp. The job is written on `channel`, its confirmation
 * pending: it steps aside (still in line, still active) and the next job is woken. Returns it.
 */
const HANDON = `${LINE}
if not redis.call('LPOS', KEYS[1], ARGV[1]) then return '' end
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
return wake(KEYS[1], KEYS[2], KEYS[3], ARGV[3])`;

type Reply<T> = Promise<T>;
interface OrderCommands {
  parleyOrderWake(ord: string, park: string, hand: string, qp: string): Reply<string>;
  parleyOrderBegin(ord: string, park: string, sent: string, hand: string, id: string, qp: string): Reply<[string, string, string]>;
  parleyOrderDone(ord: string, park: string, marker: string, hand: string, id: string, ttl: number, ordered: string, qp: string): Reply<string>;
  parleyOrderHandOn(ord: string, park: string, hand: string, id: string, channel: string, qp: string): Reply<string>;
}

/** Define the order scripts on a connection (idempotent). ioredis re-sends a script after a reconnect. */
export function defineOrderScripts(redis: RedisClient): void {
  const defined = redis as unknown as Partial<OrderCommands>;
  if (defined.parleyOrderBegin) return;
  redis.defineCommand("parleyOrderRegister", { numberOfKeys: 3, lua: REGISTER });
  redis.defineCommand("parleyOrderWake", { numberOfKeys: 3, lua: WAKE });
  redis.defineCommand("parleyOrderBegin", { numberOfKeys: 4, lua: BEGIN });
  redis.defineCommand("parleyOrderDone", { numberOfKeys: 4, lua: DONE });
  redis.defineCommand("parleyOrderHandOn", { numberOfKeys: 3, lua: HANDON });
}

/** On a MULTI a command queues and returns the pipeline; its reply comes with EXEC's. */
interface OnMulti {
  parleyOrderRegister(ord: string, park: string, hand: string, id: string, qp: string, parkMs: number, parkMaxMs: number): ChainableCommander;
}

/** The keys of one conversation's line in one queue; `qp` is the queue's key prefix, `queue.toKey("")`. */
export interface LineKeys { readonly ord: string; readonly park: string; readonly hand: string; readonly qp: string }

/**
 * Queue the REGISTER step on a MULTI, just after the job's add. EVALSHA once the connection has sent the script: inside a MULTI ioredis cannot
 * recover from NOSCRIPT by itself; the service's enqueue reloads the scripts and retries
 * (enqueue.ts). Returns the index of its reply in EXEC's results: the line's length after the
 * append (0: not appended).
 */
export function registerInOrder(multi: ChainableCommander, line: LineKeys, id: string, park: { parkMs: number; parkMaxMs: number }): number {
  // A MULTI pipeline counts its own MULTI command first; EXEC's results do not include it.
  const index = (multi as unknown as { length: number }).length - 1;
  (multi as unknown as OnMulti).parleyOrderRegister(line.ord, line.park, line.hand, id, line.qp, park.parkMs, park.parkMaxMs);
  return index;
}

/**
 * `woken`: the head this step moved to waiting, or '' (for tests and logs). `after`: on "go", the
 * channel the handed (written, unconfirmed) jobs ahead went out on, '' for none (see hand-on).
 */
export interface BeginVerdict { readonly verdict: "go" | "park" | "sent"; readonly woken: string; readonly after: string }

export class ConversationOrder {
  private readonly cmd: OrderCommands;
  constructor(redis: RedisClient) {
    defineOrderScripts(redis);
    this.cmd = redis as unknown as OrderCommands;
  }

  async begin(line: LineKeys, sent: string, id: string): Promise<BeginVerdict> {
    const [verdict, woken, after] = await this.cmd.parleyOrderBegin(line.ord, line.park, sent, line.hand, id, line.qp);
    return { verdict: verdict === "sent" || verdict === "park" ? verdict : "go", woken, after: after ?? "" };
  }

  /** The job is written on `channel`, its confirmation pending: pass the turn on (returns the head woken, '' for none). */
  handOn(line: LineKeys, id: string, channel: string): Promise<string> {
    return this.cmd.parleyOrderHandOn(line.ord, line.park, line.hand, id, channel, line.qp);
  }

  /** Its confirmation failed: the job is back in line (its retry runs before every later job). */
  async unhand(line: LineKeys, id: string): Promise<void> {
    await (this.cmd as unknown as RedisClient).hdel(line.hand, id);
  }

  /** Set the marker (sent, or final failure reported); for ordered jobs hand the turn on: returns the head woken ('' for none). */
  done(line: LineKeys, marker: string, id: string, ttlSeconds: number, ordered: boolean): Promise<string> {
    return this.cmd.parleyOrderDone(line.ord, line.park, marker, line.hand, id, ttlSeconds, ordered ? "1" : "0", line.qp);
  }

  /** After a park's moveToDelayed: wake the head if it is parked (this job, if it became the head meanwhile). */
  parked(line: LineKeys): Promise<string> {
    return this.cmd.parleyOrderWake(line.ord, line.park, line.hand, line.qp);
  }
}
