/**
 * A new mappings version announced while Redis cannot answer its read (the publication arrives,
 * the GET fails) keeps the version in force and logs why. The read used to be started with `void`
 * and its rejection left unhandled, which ends a Node process: a mappings reload during a Redis
 * hiccup would have stopped every gateway.
 */
import { EventEmitter } from "node:events";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LiveMappings } from "../../../src/mappings/live.js";
import type { MappingsVersions } from "../../../src/mappings/versions.js";
import type { RedisClient } from "../../../src/store/redis.js";
import { createLogger } from "../../../src/log/logger.js";
import { testMappings } from "../../support/mappings.js";
import { until } from "../../support/until.js";

const unhandled: unknown[] = [];
const record = (reason: unknown): void => { unhandled.push(reason); };
beforeEach(() => { unhandled.length = 0; process.on("unhandledRejection", record); });
afterEach(() => { process.off("unhandledRejection", record); });

/** A subscriber connection: it subscribes, and the test emits what Redis would publish. */
class Subscriber extends EventEmitter {
  async subscribe(): Promise<void> { /* subscribed */ }
  disconnect(): void { /* closed */ }
}

/** Versions whose reads fail as they do while Redis is down; nothing is stored yet. */
const unreachableVersions = {
  channel: "parley:test:mappings",
  current: async () => undefined,
  get: async () => { throw new Error("Connection is closed."); },
  fileSeen: async () => undefined,
  setFileSeen: async () => undefined,
} as unknown as MappingsVersions;

describe("a mappings version announced while Redis cannot be read", () => {
  it("keeps the mappings in force, logs a warning, and leaves no rejection unhandled", async () => {
    const initial = testMappings({ networks: { alpha: {} }, domains: { "alpha.example": { home: "alpha" } } });
    const lines: Array<{ level: number; msg: string; version?: number }> = [];
    const log = createLogger({ level: "info" }, { write: (s: string) => { lines.push(JSON.parse(s) as { level: number; msg: string }); } });
    const subscriber = new Subscriber();
    const live = new LiveMappings({
      initial, file: "mappings.yaml", adoptFileAtStart: false, networks: [],
      versions: unreachableVersions, subscriber: subscriber as unknown as RedisClient, log,
    });
    await live.start();
    subscriber.emit("message", unreachableVersions.channel, "7");
    subscriber.emit("ready");
    const warned = await until("the warning", () => lines.find((l) => l.msg.includes("could not be read") && l.version === 7));
    await new Promise((resolve) => setImmediate(resolve));
    expect(warned.level).toBe(40);
    expect(live.get()).toBe(initial);
    expect(live.currentVersion).toBe(0);
    expect(unhandled.map(String)).toEqual([]);
  });
});
