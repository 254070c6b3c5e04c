/**
 * Is Redis set up to keep what Parley stores? (DESIGN §3 "ack after durability"; docs/operations.md)
 * Parley acknowledges a message to its source once it is in Redis, so a Redis that evicts keys or
 * keeps nothing on disk can lose acknowledged messages. The gateway logs the problems as a warning
 * with code PARLEY_REDIS_NOT_DURABLE at start; it does not refuse to run.
 */
import type { RedisClient } from "./redis.js";
import type { Logger } from "../log/logger.js";

export interface DurabilityReport {
  readonly durable: boolean;
  readonly problems: readonly string[];
  readonly settings: { readonly maxmemoryPolicy?: string; readonly appendonly?: string; readonly appendfsync?: string; readonly save?: string };
}

async function configGet(redis: RedisClient, name: string): Promise<string | undefined> {
  const r = (await redis.config("GET", name)) as unknown;
  return Array.isArray(r) && typeof r[1] === "string" ? r[1] : undefined;
}

function infoField(info: string, field: string): string | undefined {
  const m = new RegExp(`^${field}:(.*)$`, "m").exec(info);
  return m?.[1]?.trim();
}

/** The problems with `redis`'s persistence and eviction settings (empty when durable). */
export async function checkRedisDurability(redis: RedisClient): Promise<DurabilityReport> {
  let maxmemoryPolicy: string | undefined, appendonly: string | undefined, appendfsync: string | undefined, save: string | undefined;
  const problems: string[] = [];
  try {
    [maxmemoryPolicy, appendonly, appendfsync, save] = await Promise.all(
      ["maxmemory-policy", "appendonly", "appendfsync", "save"].map((n) => configGet(redis, n)));
  } catch {
    // CONFIG is often disabled on managed Redis: fall back to INFO (no RDB schedule there).
    const info = await redis.info();
    maxmemoryPolicy = infoField(info, "maxmemory_policy");
    appendonly = infoField(info, "aof_enabled") === "1" ? "yes" : "no";
    problems.push("CONFIG is not available: cannot tell whether RDB snapshots are scheduled");
  }
  if (maxmemoryPolicy !== undefined && maxmemoryPolicy !== "noeviction") {
    problems.push(`maxmemory-policy is ${maxmemoryPolicy}: Redis may evict queued jobs under memory pressure; set noeviction`);
  }
  const aof = appendonly === "yes";
  const rdb = save !== undefined && save.trim() !== "";
  if (!aof && !rdb && save !== undefined) {
    problems.push("neither AOF (appendonly) nor RDB snapshots (save) are on: a Redis restart loses every queued message");
  } else if (!aof && save === undefined && appendonly !== undefined) {
    problems.push("AOF (appendonly) is off");
  }
  return { durable: problems.length === 0, problems, settings: { maxmemoryPolicy, appendonly, appendfsync, save } };
}

/** Run {@link checkRedisDurability} and log a PARLEY_REDIS_NOT_DURABLE warning when it finds problems. */
export async function warnIfRedisNotDurable(redis: RedisClient, log: Logger): Promise<DurabilityReport> {
  const report = await checkRedisDurability(redis);
  if (!report.durable) {
    log.warn({ code: "PARLEY_REDIS_NOT_DURABLE", problems: report.problems, settings: report.settings },
      "Redis may lose queued messages: enable AOF and maxmemory-policy noeviction");
  }
  return report;
}
