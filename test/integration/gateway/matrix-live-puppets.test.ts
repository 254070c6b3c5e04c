/**
 * Issue 14: the Matrix puppets kept online live in Redis, not in one process's memory. Puppets
 * never /sync, so Synapse takes them offline 30 s after their last presence update unless someone
 * re-sends it: after the process that put a puppet online is gone (a restart, another host), the
 * next process refreshes it; while several run, one refreshes (a lease), never all of them.
 * The homeserver is a recorder of `PUT /presence/{user}/status` calls.
 */
import { Redis } from "ioredis";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { PuppetPresence } from "../../../adapters/matrix/presence.js";
import type { MatrixDeps } from "../../../adapters/matrix/deps.js";
import { asNetworkId } from "../../../src/model/address.js";
import { silentLogger } from "../../../src/log/logger.js";
import { deleteKeysUnder, keyspace, RedisAdapterStateStore } from "../../../src/store/index.js";
import { testPrefix } from "../../support/gateway.js";
import { until } from "../../support/until.js";

interface Put { readonly by: string; readonly puppet: string; readonly presence: unknown }

const redis = new Redis("redis://127.0.0.1:6379");
const prefix = testPrefix("live-puppets");
const running: PuppetPresence[] = [];
afterEach(async () => {
  for (const p of running.splice(0)) await p.stop();
  await deleteKeysUnder(redis, prefix);
});

/** One process's PuppetPresence over the shared Redis; `onPut` runs inside each homeserver call. */
function processNamed(name: string, puts: Put[], onPut: (p: Put) => Promise<void> = async () => undefined): PuppetPresence {
  const state = new RedisAdapterStateStore(redis, keyspace(prefix), asNetworkId("matrix"));
  const hs = {
    async request(_as: string, _method: string, path: string, body: { presence: unknown }) {
      const puppet = decodeURIComponent(/^\/presence\/([^/]+)\/status$/.exec(path)?.[1] ?? "");
      const put = { by: name, puppet, presence: body.presence };
      puts.push(put);
      await onPut(put);
    },
  };
  const d = { ctx: { state }, config: { presenceRefreshSeconds: 1 }, hs, log: silentLogger() } as unknown as MatrixDeps;
  const p = new PuppetPresence(d);
  running.push(p);
  return p;
}

afterAll(() => { redis.disconnect(); });

const puppet = "@_parley_xmpp_alice=40chat.example.org:matrix.example.org";

describe("live puppets in Redis (issue 14)", () => {
  it("a puppet one process put online is refreshed by the next process after the first is gone", async () => {
    const puts: Put[] = [];
    const first = processNamed("first", puts);
    await first.live.set(puppet, { presence: "online", status_msg: "here" }); // as a delivery leaves it
    await first.stop(); // the process is gone: its memory with it
    const next = processNamed("next", puts);
    next.start();
    await until("the next process refreshes the puppet", () => (puts.some((p) => p.by === "next" && p.puppet === puppet && p.presence === "online") ? true : undefined), 10_000, 50);
    expect(puts.filter((p) => p.by === "first")).toEqual([]);
  });

  it("with two processes running, one refreshes (the lease), not both", async () => {
    const puts: Put[] = [];
    const [a, b] = [processNamed("a", puts), processNamed("b", puts)];
    await a.live.set(puppet, { presence: "unavailable" });
    a.start();
    b.start();
    await until("three refreshes", () => (puts.length >= 3 ? true : undefined), 10_000, 50);
    expect(new Set(puts.map((p) => p.by)).size).toBe(1);
  });

  it("a change another process makes while a refresh sends the old state is sent again after it", async () => {
    const puts: Put[] = [];
    const other = processNamed("other", []);
    let changed = false;
    const refresher = processNamed("refresher", puts, async () => {
      if (changed) return;
      changed = true; // while the refresh's "online" is in flight, another process lowers the puppet
      await other.live.set(puppet, { presence: "unavailable" });
    });
    await refresher.live.set(puppet, { presence: "online" });
    expect(await refresher.refresh()).toBe(1);
    expect(puts.map((p) => p.presence)).toEqual(["online", "unavailable"]);
  });
});
