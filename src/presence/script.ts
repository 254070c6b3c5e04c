/** A Lua script sent once and then called by its SHA-1 (EVALSHA, falling back to EVAL on NOSCRIPT). */
import { createHash } from "node:crypto";
import type { RedisClient } from "../store/redis.js";

export class Script {
  private readonly sha: string;
  constructor(private readonly source: string) {
    this.sha = createHash("sha1").update(source).digest("hex");
  }

  async run(redis: RedisClient, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (e) {
      if (!(e instanceof Error) || !e.message.startsWith("NOSCRIPT")) throw e;
      return redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}
