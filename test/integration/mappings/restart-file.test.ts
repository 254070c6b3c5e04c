/**
 * The mappings file against the versions in Redis at start (issue 17): a file left as it was does
 * not undo a version applied later through the console or the admin API; a file the admin edited
 * since Parley last read it becomes the new version; SIGHUP always takes the file.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { LiveMappings, MappingsVersions } from "../../../src/mappings/index.js";
import { deleteKeysUnder, keyspace } from "../../../src/store/index.js";
import { silentLogger } from "../../../src/log/logger.js";
import { testPrefix } from "../../support/gateway.js";
import { twoNetworkMappings, twoNetworks } from "../../support/two-networks.js";

const V1 = "networks:\n  alpha: {}\n  beta: {}\ndomains:\n  alpha.example: { home: alpha }\n  beta.example: { home: beta }\n";
const API = `${V1}  gamma.example: { home: beta }\n`;
const EDITED = `${V1}  delta.example: { home: alpha }\n`;

const prefix = testPrefix("mapfile");
const dir = mkdtempSync(join(tmpdir(), "parley-mapfile-"));
const file = join(dir, "domains.yaml");
const redis = new Redis();
const running: LiveMappings[] = [];

afterEach(async () => {
  for (const l of running.splice(0)) await l.stop();
});

/** One Parley process's start: the CLI's settings (adopt the file at start). */
async function startProcess(): Promise<LiveMappings> {
  const live = new LiveMappings({
    initial: twoNetworkMappings, file, adoptFileAtStart: true,
    networks: twoNetworks().factories.map((f) => ({ id: f.id, addressing: f.addressing })),
    versions: new MappingsVersions(redis, keyspace(prefix)), subscriber: new Redis({ maxRetriesPerRequest: null }), log: silentLogger(),
  });
  running.push(live);
  await live.start();
  return live;
}

describe("mappings file and stored versions at start", () => {
  it("an unchanged file keeps the version applied through the API; an edited file wins; SIGHUP takes the file", async () => {
    try {
      writeFileSync(file, V1);
      const first = await startProcess();
      expect(first.currentVersion).toBe(1);
      expect((await first.apply(API, "api")).ok).toBe(true);
      await first.stop(); running.length = 0;

      // Restart with the file untouched: the API's version stays in force.
      const second = await startProcess();
      expect(second.currentVersion).toBe(2);
      expect(second.get().domains.has("gamma.example")).toBe(true);
      await second.stop(); running.length = 0;

      // The admin edits the file, then restarts: the file becomes version 3.
      writeFileSync(file, EDITED);
      const third = await startProcess();
      expect(third.currentVersion).toBe(3);
      expect(third.get().domains.has("delta.example")).toBe(true);
      expect(third.get().domains.has("gamma.example")).toBe(false);

      // Through the API again, then SIGHUP with the same file: the explicit reload takes the file.
      expect((await third.apply(API, "api")).ok).toBe(true);
      expect(await third.reloadFile()).toMatchObject({ ok: true, version: 5 });
      expect(third.get().domains.has("delta.example")).toBe(true);
    } finally {
      await deleteKeysUnder(redis, prefix);
      redis.disconnect();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
