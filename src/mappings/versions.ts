/**
 * Versions of the domain mappings kept in Redis (issue 17, live reload): every applied version's
 * YAML text, its number, when and by what it was applied; the current number; and a pub/sub
 * channel on which every Parley process learns a new current version.
 *
 *   <prefix>:mappings:seq            last version number handed out
 *   <prefix>:mappings:v:<n>          hash: text, file, source (sighup|api|console|start), at
 *   <prefix>:mappings:current        the current version number
 *   <prefix>:mappings:history        list of the last versions' numbers, newest first (20 kept)
 *   <prefix>:mappings:file-seen      SHA-256 of the mappings file's text as Parley last read it
 *   channel <prefix>:mappings        publishes the new current number
 *
 * On a Redis Cluster the keys' `mappings` part is the hash tag `{mappings}`: one slot, one MULTI.
 */
import type { RedisClient } from "../store/redis.js";
import type { Keyspace } from "../store/keys.js";
import { unavailable } from "../store/redis.js";

export interface MappingsVersion {
  readonly version: number;
  readonly text: string;
  readonly file: string;
  readonly source: string;
  readonly at: string;
}

const KEEP = 20;

export class MappingsVersions {
  constructor(private readonly redis: RedisClient, private readonly keys: Keyspace) {}

  get channel(): string { return this.keys.key("mappings"); }
  private k(...parts: string[]): string { return this.keys.key(this.keys.group("mappings"), ...parts); }
  private v(n: number): string { return this.k("v", String(n)); }

  /** Store `text` as the new current version and tell every process. */
  async store(text: string, file: string, source: string): Promise<number> {
    try {
      const n = await this.redis.incr(this.k("seq"));
      const history = this.k("history");
      const dropped = await this.redis.lrange(history, KEEP - 1, -1);
      await this.redis.multi()
        .hset(this.v(n), { text, file, source, at: new Date().toISOString() })
        .set(this.k("current"), String(n))
        .lpush(history, String(n))
        .ltrim(history, 0, KEEP - 1)
        .del(...dropped.map((d) => this.v(Number(d))), this.v(0))
        .publish(this.channel, String(n))
        .exec();
      return n;
    } catch (e) { throw unavailable(e, "storing a mappings version"); }
  }

  async current(): Promise<MappingsVersion | undefined> {
    const n = await this.redis.get(this.k("current"));
    return n === null ? undefined : this.get(Number(n));
  }

  async get(n: number): Promise<MappingsVersion | undefined> {
    const h = await this.redis.hgetall(this.v(n));
    if (h.text === undefined) return undefined;
    return { version: n, text: h.text, file: h.file ?? "", source: h.source ?? "", at: h.at ?? "" };
  }

  /** The digest of the file's text as Parley last read it (start, SIGHUP, reload), if ever. */
  async fileSeen(): Promise<string | undefined> {
    return (await this.redis.get(this.keys.key("mappings", "file-seen"))) ?? undefined;
  }

  async setFileSeen(digest: string): Promise<void> {
    await this.redis.set(this.keys.key("mappings", "file-seen"), digest);
  }

  /** The kept versions' numbers, newest first. */
  async history(): Promise<number[]> {
    return (await this.redis.lrange(this.k("history"), 0, -1)).map(Number);
  }
}
