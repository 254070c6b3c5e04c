import { Redis } from "ioredis";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../../src/log/logger.js";
import { checkRedisDurability, warnIfRedisNotDurable } from "../../../src/store/index.js";
import { RedisServer } from "../../support/redis-server.js";
import { SHARED_REDIS } from "../delivery/helpers.js";

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({ write(chunk: Buffer, _enc, cb) { lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>); cb(); } });
  return { lines, log: createLogger({ level: "info" }, stream) };
}

let aofServer: RedisServer;
beforeAll(async () => { aofServer = await RedisServer.start({ appendonly: true }); });
afterAll(async () => { await aofServer.destroy(); });

describe("Redis durability check (DESIGN §3 ack after durability)", () => {
  it("warns PARLEY_REDIS_NOT_DURABLE on the local Redis, which keeps nothing on disk", async () => {
    const r = new Redis(SHARED_REDIS);
    try {
      const { lines, log } = capture();
      const report = await warnIfRedisNotDurable(r, log);
      expect(report.durable).toBe(false);
      expect(report.problems.join(" ")).toMatch(/neither AOF/);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({ level: 40, code: "PARLEY_REDIS_NOT_DURABLE" });
    } finally { r.disconnect(); }
  });

  it("does not warn on a Redis with AOF (appendfsync always) and noeviction, and does on an evicting one", async () => {
    const r = new Redis(aofServer.url);
    try {
      const { lines, log } = capture();
      const report = await warnIfRedisNotDurable(r, log);
      expect(report.problems).toEqual([]);
      expect(report.settings).toMatchObject({ appendonly: "yes", appendfsync: "always", maxmemoryPolicy: "noeviction" });
      expect(lines).toHaveLength(0);
      await r.config("SET", "maxmemory-policy", "allkeys-lru");
      const evicting = await checkRedisDurability(r);
      expect(evicting.problems.join(" ")).toMatch(/allkeys-lru/);
      await r.config("SET", "maxmemory-policy", "noeviction");
    } finally { r.disconnect(); }
  });
});
