/**
 * Per-conversation order on BullMQ's open-source edition (DESIGN §3 "Order"), which has no groups.
 *
 * Design. Every job of an ordered conversation is an ordinary job in its (kind, network) queue,
 * so retries, stalls, pause and the failed set work as BullMQ does them; order comes from a Redis
 * list per conversation, `ord`, of job ids in enqueue order:
 *
 * - **enqueue** appends the job id to `ord` in the same MULTI/EXEC as BullMQ's add, so a job
 *   exists iff its place in line does (no hole, no ghost) even across a crash or `kill -9` of
 *   Redis with AOF. A key already present as a job is not appended again (the add is a no-op too).
 * - **begin**: a worker runs a job only when it is the head of `ord`. Otherwise it *parks* it
 *   (`moveToDelayed` + DelayedError) and records it in the conversation's `park` set (a sorted
 *   set: member = job, score = when it was last woken). Only the
 *   conversation's own later jobs wait; other conversations never see this job (no head-of-line
 *   blocking across conversations — a job in retry backoff sits in BullMQ's delayed set and holds
 *   back exactly its successors).
 * - **done** (success or final failure) removes the job from `ord` and, if the new head is parked,
 *   the worker promotes it at once: no polling latency.
 * - A parked job also wakes after a timeout, `parkMs` doubling per park up to `parkMaxMs`: a
 *   safety net only (a lost promote), cheap even for a long backlog behind a failing recipient.
 * - Race: a successor can decide to park just before its predecessor finishes, so the predecessor's
 *   promote may find it still active. After parking, the successor re-checks whether it became the
 *   head and promotes itself; one of the two promotes always finds it delayed. A worker dying
 *   between *done* and its promote leaves its job active; its re-run after the stall finds the
 *   sent marker, passes by the line and wakes the parked head (see ADVANCE).
 * - A head whose job no longer exists or sits in the failed set (e.g. removed by age, or a stalled
 *   job failed without finalising) is skipped when a successor looks, so a conversation can never
 *   be stuck behind a ghost.
 *
 * Why not the alternatives: a queue per conversation explodes keys and workers (RFC 2779 2.2.3); a
 * single "pump" job per conversation breaks the one-job-per-(message, target) model the failed set
 * and the admin rely on; sequence numbers need the same atomic add and a second map from number to
 * job, where the list is both.
 *
 * Not Redis-Cluster-safe as is: `ord`/`park` and the queue's keys would need a common hash tag.
 */
import type { ChainableCommander } from "ioredis";
import type { RedisClient } from "./bullmq.js";

/**
 * Remove `id` from the line (and from `park`); if the (new) head is parked, return it so the caller
 * promotes it (at most once a second per head, see `wake`). The head is checked even when `id` was
 * not the head, and a parked head stays in `park` until it actually begins (BEGIN removes it), so
 * *whoever* passes by wakes it: a parked head is never right (a head runs, waits or sits in retry
 * backoff — a job in backoff is not in `park`, so its backoff is never cut short). This is what
 * closes the gap of a worker dying between *done* and its promote: the dead job's re-run after its
 * stall finds the sent marker, passes by the line and wakes the head. A promote of a job no longer
 * delayed fails harmlessly.
 */
const ADVANCE = `
local function nowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
-- park is a sorted set: member = parked job, score = when someone last tried to wake it (0: never).
-- A head is handed out for a promote at most once a second, so a crowd of out-of-turn jobs
-- passing by does not promote it again and again while it already waits to run.
local function wake(park, head)
  local t = redis.call('ZSCORE', park, head)
  if not t then return '' end
  local now = nowMs()
  if now - tonumber(t) < 1000 then return '' end
  redis.call('ZADD', park, now, head)
  return head
end
local function advance(ord, park, id)
  redis.call('LREM', ord, 1, id)
  redis.call('ZREM', park, id)
  local nxt = redis.call('LINDEX', ord, 0)
  if nxt then return wake(park, nxt) end
  return ''
end
`;

/**
 * KEYS ord, jobHash; ARGV id. Appends unless the job already exists (then BullMQ's add is a no-op
 * too) or is already in line (a retried enqueue whose add had failed: the entry is reused).
 * Returns the line's length after the append (0: not appended), for the backlog bound (enqueue.ts).
 */
const REGISTER = `
if redis.call('EXISTS', KEYS[2]) == 1 or redis.call('LPOS', KEYS[1], ARGV[1]) then return 0 end
return redis.call('RPUSH', KEYS[1], ARGV[1])`;

/** KEYS ord, park, sentMarker; ARGV id, bullQueueKeyPrefix. Returns {verdict, promote}. */
const BEGIN = `${ADVANCE}
local id = ARGV[1]
if redis.call('EXISTS', KEYS[3]) == 1 then return {'sent', advance(KEYS[1], KEYS[2], id)} end
local pos = redis.call('LPOS', KEYS[1], id)
if not pos then return {'go', ''} end
while pos > 0 do
  local head = redis.call('LINDEX', KEYS[1], 0)
  if redis.call('EXISTS', ARGV[2] .. head) == 1 and not redis.call('ZSCORE', ARGV[2] .. 'failed', head) then
    redis.call('ZADD', KEYS[2], 0, id)
    return {'park', wake(KEYS[2], head)}
  end
  redis.call('LPOP', KEYS[1])
  redis.call('ZREM', KEYS[2], head)
  pos = pos - 1
end
redis.call('ZREM', KEYS[2], id)
return {'go', ''}`;

/** KEYS ord, park, marker; ARGV id, ttlSeconds, ordered(1|0). Sets the marker, hands the turn on. */
const DONE = `${ADVANCE}
redis.call('SET', KEYS[3], '1', 'EX', ARGV[2])
if ARGV[3] == '1' then return advance(KEYS[1], KEYS[2], ARGV[1]) end
return ''`;

/** KEYS ord, park; ARGV id. After parking: 1 when the job is (now) the head and must promote itself. */
const RECHECK = `
local pos = redis.call('LPOS', KEYS[1], ARGV[1])
if pos == 0 or not pos then redis.call('ZREM', KEYS[2], ARGV[1]) return 1 end
return 0`;

type Reply<T> = Promise<T>;
interface OrderCommands {
  parleyOrderRegister(ord: string, jobHash: string, id: string): Reply<number>;
  parleyOrderBegin(ord: string, park: string, sent: string, id: string, bullPrefix: string): Reply<[string, string]>;
  parleyOrderDone(ord: string, park: string, marker: string, id: string, ttl: number, ordered: string): Reply<string>;
  parleyOrderRecheck(ord: string, park: string, id: string): Reply<number>;
}

/** Define the order scripts on a connection (idempotent). ioredis re-sends a script after a reconnect. */
export function defineOrderScripts(redis: RedisClient): void {
  const defined = redis as unknown as Partial<OrderCommands>;
  if (defined.parleyOrderBegin) return;
  redis.defineCommand("parleyOrderRegister", { numberOfKeys: 2, lua: REGISTER });
  redis.defineCommand("parleyOrderBegin", { numberOfKeys: 3, lua: BEGIN });
  redis.defineCommand("parleyOrderDone", { numberOfKeys: 3, lua: DONE });
  redis.defineCommand("parleyOrderRecheck", { numberOfKeys: 2, lua: RECHECK });
}

/**
 * Queue the REGISTER step on a MULTI, just before the job's add (EVALSHA once the connection has
 * sent the script). Inside a MULTI ioredis cannot recover from NOSCRIPT by itself; the service's
 * enqueue reloads the scripts and retries (service.ts). Returns the index of its reply in EXEC's
 * results: the line's length after the append (0: not appended).
 */
export function registerInOrder(multi: ChainableCommander, ord: string, jobHash: string, id: string): number {
  // A MULTI pipeline counts its own MULTI command first; EXEC's results do not include it.
  const index = (multi as unknown as { length: number }).length - 1;
  (multi as unknown as { parleyOrderRegister(...a: string[]): ChainableCommander }).parleyOrderRegister(ord, jobHash, id);
  return index;
}

/** `promote`: a parked job (the head) to wake, or ''. */
export interface BeginVerdict { readonly verdict: "go" | "park" | "sent"; readonly promote: string }

export class ConversationOrder {
  private readonly cmd: OrderCommands;
  constructor(redis: RedisClient) {
    defineOrderScripts(redis);
    this.cmd = redis as unknown as OrderCommands;
  }

  async begin(ord: string, park: string, sent: string, id: string, bullPrefix: string): Promise<BeginVerdict> {
    const [verdict, promote] = await this.cmd.parleyOrderBegin(ord, park, sent, id, bullPrefix);
    return { verdict: verdict === "sent" || verdict === "park" ? verdict : "go", promote };
  }

  /** Set the marker (sent, or final failure reported); for ordered jobs return the successor to promote ('' for none). */
  done(ord: string, park: string, marker: string, id: string, ttlSeconds: number, ordered: boolean): Promise<string> {
    return this.cmd.parleyOrderDone(ord, park, marker, id, ttlSeconds, ordered ? "1" : "0");
  }

  async mustSelfPromote(ord: string, park: string, id: string): Promise<boolean> {
    return (await this.cmd.parleyOrderRecheck(ord, park, id)) === 1;
  }
}
