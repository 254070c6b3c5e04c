/**
 * Issue 12, DESIGN §3 "Order": the order test of order-processes.test.ts for rooms. Three linked
 * rooms over three networks, members of every network posting in turn, two worker processes with
 * 10% injected transient failures: each native room receives its room's messages in the order
 * sent, none lost, none duplicated, and each message once per other native room (not per member).
 */
import { describe, expect, it } from "vitest";
import { SHARED_REDIS, uniquePrefix, waitFor } from "./helpers.js";
import { useProcessRig } from "./processes.js";
import { ROOM_NETS, RoomLoad } from "./room-load.js";

const prefix = uniquePrefix("rorder");
const RATE = 150; // messages per second, open loop, over the rooms
const service = { networks: ROOM_NETS, retry: { attempts: 40, baseMs: 50, capMs: 2000 }, parkMs: 2000, lockDurationMs: 5000, stalledIntervalMs: 2000,
  // Both processes take jobs of the same queue at once — what leased sharing (the default) allows
  // only while it rebalances or takes over: the order machinery under concurrent consumers.
  queueSharing: "every-process" as const };
const rig = useProcessRig({ prefix, service, spawn: { cfg: { redisUrl: SHARED_REDIS, prefix, networks: [...ROOM_NETS], concurrency: 16, failRate: 0.1, service }, count: 2 } });

/** Per line, the indexes received in order (duplicates included), and the pids that sent them. */
async function received(line: string): Promise<{ i: number; pid: number }[]> {
  return (await rig.rec.lrange(`${prefix}:t:recv:${line}`, 0, -1)).map((s) => {
    const [i, , pid] = s.split("|").map(Number);
    return { i: i!, pid: pid! };
  });
}

describe("per-room order across worker processes (issue 12, DESIGN §3)", () => {
  it("T-2.2.6 rooms: two processes, 10% transient failures: every native room in order, none lost or duplicated", { timeout: 120_000 }, async () => {
    const load = new RoomLoad(3, 4);
    const start = Date.now();
    while (Date.now() - start < 8000) {
      const due = Math.floor(((Date.now() - start) / 1000) * RATE);
      const specs = [];
      while (load.messages < due) specs.push(...load.next());
      if (specs.length > 0) await rig.producer.enqueue(specs);
      await new Promise((r) => setTimeout(r, 5)); // the offered rate's clock, not a synchronisation
    }
    await waitFor(async () => {
      for (const [line, n] of load.sent) if ((await rig.rec.llen(`${prefix}:t:recv:${line}`)) < n) return false;
      return true;
    }, 60_000, "every room message delivered");
    const pids = new Set<number>();
    for (const [line, n] of load.sent) {
      const got = await received(line);
      expect(got.map((g) => g.i), `${line}: in order, none lost, none duplicated`).toEqual([...Array(n).keys()]);
      for (const g of got) pids.add(g.pid);
    }
    console.log(`room_order rooms=${load.rooms.length} lines=${load.sent.size} messages=${load.messages} deliveries=${load.jobs} elapsed_ms=${Date.now() - start}`);
    expect(load.sent.size, "each room reaches its three native rooms").toBe(load.rooms.length * ROOM_NETS.length);
    expect(load.jobs, "one delivery per other native room, not per member").toBe(load.messages * (ROOM_NETS.length - 1));
    expect(pids.size, "both worker processes delivered").toBe(2);
  });
});
