/**
 * Writes traces without adding a Redis round trip to the hot path (issue 17): hops are buffered
 * in the process and written in one batch every `flushMs` (default 100 ms; 0: at the end of the
 * current event-loop turn), never awaited by a message's path. The batch is one script call on
 * the current minute's hash (keys.ts) for everything buffered — hops of every message, the
 * address and native-id lookups — so tracing costs a message a few string operations in Node
 * and a few hash writes inside one script in Redis, not commands of its own.
 *
 * One key per call: Redis-Cluster-safe. A trace write that fails (Redis down) is dropped, and a
 * process that dies loses its last `flushMs` of hops: a trace is a diagnostic and never holds up
 * or fails a message.
 */
import type { RedisClient } from "../store/redis.js";
import type { Logger } from "../log/logger.js";
import { encodeHop, type Hop } from "./hops.js";
import { addressField, messageField, minuteOf, nativeField, type TraceKeys } from "./keys.js";
import { errorMessage } from "../errors/message.js";

/**
 * KEYS bucket; ARGV ttlSeconds, maxHops, perAddress, records. `records` is one string of
 * `field \x1f value` records separated by `\x1e` (one argument, not thousands: cheaper on both
 * sides). JSON never contains these two control characters, and fields are stripped of them.
 *   m:<id>   value = hops, one per line: appended; past maxHops lines in this bucket the rest is
 *            dropped and one `~` line marks it
 *   a:<addr> value = ids, space-separated, newest first: prepended, at most perAddress kept
 *   n:<nid>  value = canonical id: set
 */
const FLUSH = `
local maxHops = tonumber(ARGV[2])
local perAddress = tonumber(ARGV[3])
local count = 0
for f, v in string.gmatch(ARGV[4], '([^\\30\\31]+)\\31([^\\30]*)') do
  count = count + 1
  local kind = string.sub(f, 1, 1)
  if kind == 'n' then
    redis.call('HSET', KEYS[1], f, v)
  else
    local old = redis.call('HGET', KEYS[1], f)
    if not old then
      redis.call('HSET', KEYS[1], f, v)
    elseif kind == 'm' then
      local _, lines = string.gsub(old, '\\n', '')
      if lines + 1 < maxHops then
        redis.call('HSET', KEYS[1], f, old .. '\\n' .. v)
      elseif string.sub(old, -1) ~= '~' then
        redis.call('HSET', KEYS[1], f, old .. '\\n~')
      end
    else
      local ids = v .. ' ' .. old
      local _, n = string.gsub(ids, ' ', '')
      if n + 1 > perAddress then
        local cut = 0
        for _ = 1, perAddress do cut = string.find(ids, ' ', cut + 1, true) end
        ids = string.sub(ids, 1, cut - 1)
      end
      redis.call('HSET', KEYS[1], f, ids)
    end
  end
end
redis.call('EXPIRE', KEYS[1], ARGV[1])
return count`;

interface TraceCommands {
  parleyTraceFlush(key: string, ttl: number, maxHops: number, perAddress: number, records: string): Promise<number>;
}

export interface TraceLimits {
  /** How long a trace and its lookups are kept, in seconds (default 24 h). */
  readonly retentionSeconds: number;
  /** Hops kept per message and minute. */
  readonly maxHops: number;
  /** Message ids kept per address and minute. */
  readonly perAddress: number;
  /** How long hops are buffered before they are written, in ms (0: at the end of the event-loop turn). */
  readonly flushMs: number;
}

/** Records per script call, so one call never holds Redis for long. */
const RECORDS_PER_CALL = 500;

export class TraceWriter {
  private readonly cmd: TraceCommands;
  private hops = new Map<string, string>();
  private addresses = new Map<string, string>();
  private natives = new Map<string, string>();
  private scheduled = false;
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(private readonly redis: RedisClient, private readonly keys: TraceKeys, private readonly limits: TraceLimits, private readonly log: Logger) {
    if (!(redis as unknown as Partial<TraceCommands>).parleyTraceFlush) {
      redis.defineCommand("parleyTraceFlush", { numberOfKeys: 1, lua: FLUSH });
    }
    this.cmd = redis as unknown as TraceCommands;
  }

  append(id: string, ...hops: Hop[]): void {
    const f = messageField(id);
    let text = this.hops.get(f);
    for (const h of hops) text = text === undefined ? encodeHop(h) : `${text}\n${encodeHop(h)}`;
    if (text !== undefined) this.hops.set(f, text);
    this.schedule();
  }

  /** Remember that message `id` is from or to `address` (for `parley trace ADDRESS --last N`). */
  indexAddress(address: string, id: string): void {
    const f = addressField(address);
    const ids = this.addresses.get(f);
    this.addresses.set(f, ids === undefined ? id : `${id} ${ids}`);
    this.schedule();
  }

  indexNative(nativeId: string, id: string): void {
    this.natives.set(nativeField(nativeId), id);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    if (this.limits.flushMs === 0) setImmediate(() => void this.flush());
    else setTimeout(() => void this.flush(), this.limits.flushMs).unref();
  }

  /** Send everything buffered; the returned promise settles when Redis has answered. */
  flush(): Promise<void> {
    this.scheduled = false;
    const records: string[] = [];
    for (const m of [this.hops, this.addresses, this.natives]) for (const [f, v] of m) records.push(`${f}\x1f${v}`);
    if (records.length === 0) return Promise.resolve();
    this.hops = new Map();
    this.addresses = new Map();
    this.natives = new Map();
    const key = this.keys.bucket(minuteOf(Date.now()));
    const { retentionSeconds: ttl, maxHops, perAddress } = this.limits;
    const sent: Promise<unknown>[] = [];
    for (let i = 0; i < records.length; i += RECORDS_PER_CALL) {
      sent.push(this.cmd.parleyTraceFlush(key, ttl, maxHops, perAddress, records.slice(i, i + RECORDS_PER_CALL).join("\x1e")));
    }
    const all = Promise.all(sent).then(() => undefined, (e: unknown) => {
      this.log.debug({ err: errorMessage(e) }, "a trace write failed (the messages are not affected)");
    });
    this.inFlight.add(all);
    void all.finally(() => this.inFlight.delete(all));
    return all;
  }

  /** Flush and wait for every write still under way (at shutdown, and in tests). */
  async drain(): Promise<void> {
    await this.flush();
    await Promise.all([...this.inFlight]);
  }
}
