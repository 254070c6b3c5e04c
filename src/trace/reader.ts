/**
 * Finds traces (issue 17): by canonical id, by a native id (the source's or the destination's),
 * or the last N messages from or to an address. Used by `parley trace`, `GET /trace/:query` and
 * the console. Reads walk the minute hashes (keys.ts): from the id's own minute to now for a
 * message, newest first for a native id or an address; at most `retentionSeconds / 60` reads.
 */
import type { RedisClient } from "../store/redis.js";
import { unavailable } from "../store/redis.js";
import { decodeHop, type Hop, type MessageTrace } from "./hops.js";
import { addressField, messageField, minuteOf, nativeField, type TraceKeys } from "./keys.js";

export interface TraceLookup {
  /** What the query was taken as. */
  readonly matched: "id" | "native-id" | "address" | "none";
  readonly query: string;
  /** Newest first for an address; one trace for an id. */
  readonly traces: readonly MessageTrace[];
}

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const idMinute = (id: string): number => minuteOf(parseInt(id.slice(0, 8) + id.slice(9, 13), 16));

export class TraceReader {
  constructor(private readonly redis: RedisClient, private readonly keys: TraceKeys, private readonly retentionSeconds: number) {}

  /** The minutes still kept, newest first. */
  private minutes(from = 0): number[] {
    const now = minuteOf(Date.now());
    const oldest = Math.max(from, now - Math.ceil(this.retentionSeconds / 60));
    const out: number[] = [];
    for (let m = now; m >= oldest; m--) out.push(m);
    return out;
  }

  private async read(minutes: readonly number[], field: string): Promise<(string | null)[]> {
    try {
      return await Promise.all(minutes.map((m) => this.redis.hget(this.keys.bucket(m), field)));
    } catch (e) { throw unavailable(e, "a trace read"); }
  }

  async trace(id: string): Promise<MessageTrace | undefined> {
    if (!UUID_V7.test(id)) return undefined;
    // A little before the id's minute too: another process's clock may run behind.
    const parts = (await this.read(this.minutes(idMinute(id) - 1).reverse(), messageField(id))).filter((p): p is string => p !== null);
    if (parts.length === 0) return undefined;
    const lines = parts.join("\n").split("\n");
    const hops = lines.map(decodeHop).filter((h): h is Hop => h !== undefined);
    // Hops from several processes arrive in flush order; show them in time order.
    hops.sort((a, b) => a.at - b.at);
    return { id, hops, truncated: lines.includes("~") };
  }

  /** A canonical id, else a native id, else an address (its last `last` messages). */
  async lookup(query: string, last = 10): Promise<TraceLookup> {
    const q = query.trim();
    const t = await this.trace(q.toLowerCase());
    if (t) return { matched: "id", query: q, traces: [t] };
    const minutes = this.minutes();
    const native = (await this.read(minutes, nativeField(q))).find((v) => v !== null);
    if (native) {
      const nt = await this.trace(native);
      if (nt) return { matched: "native-id", query: q, traces: [nt] };
    }
    const ids: string[] = [];
    for (const v of await this.read(minutes, addressField(q))) {
      if (v !== null) for (const id of v.split(" ")) if (!ids.includes(id)) ids.push(id);
      if (ids.length >= last) break;
    }
    const traces = (await Promise.all(ids.slice(0, last).map((id) => this.trace(id)))).filter((x): x is MessageTrace => x !== undefined);
    return { matched: traces.length > 0 ? "address" : "none", query: q, traces };
  }
}
