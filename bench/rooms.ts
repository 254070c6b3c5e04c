/**
 * `npm run bench:rooms` — one linked room across three networks with `members` members per network
 * (issue 12). Every message is accepted by the core's room service and delivered through the real
 * BullMQ delivery service to room-capable test adapters. Prints:
 *   room_msgs_per_s     messages through accept → queue → delivery in every other native room
 *   deliveries_per_msg  room deliveries per message: the number of other bridged native rooms (2),
 *                       however many members the room has
 *   burst_p50/p99_ms    accept → last native room delivery when all `n` are offered at once: the
 *                       backlog of one ordered conversation (≈ n / room_msgs_per_s), not the path
 *   p99_ms, p50_ms      accept → last native room delivery at `rate` messages a second (below the
 *                       room's throughput): what a member waits
 * Arguments: n=2000, members=100, rate=50, paced=500, concurrency=32, redis=redis://127.0.0.1:6379.
 */
import { randomBytes } from "node:crypto";
import { Registry } from "prom-client";
import { Redis } from "ioredis";
import type { Adapter, DeliveryOutcome } from "../src/adapter/contract.js";
import { createDeliveryService } from "../src/delivery/index.js";
import { asNetworkId, canonicalAddress, endpoint, type NetworkId } from "../src/model/address.js";
import { canonicalIdTime, newCanonicalId } from "../src/model/ids.js";
import { activityId, type RoomDelivery } from "../src/model/room-events.js";
import { linkedRoomKey } from "../src/model/room.js";
import { RoomDirectory } from "../src/mappings/room-directory.js";
import { silentLogger } from "../src/log/logger.js";
import { RoomService, linkedRooms } from "../src/rooms/service.js";
import { createRoomMetrics } from "../src/rooms/metrics.js";
import { deleteKeysUnder } from "../src/store/keys.js";
import { testMappings } from "../test/support/mappings.js";

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.split("=") as [string, string]));
const N = Number(args.n ?? 2000);
const MEMBERS = Number(args.members ?? 100);
const REDIS = args.redis ?? "redis://127.0.0.1:6379";
const RATE = Number(args.rate ?? 50);
const PACED_N = Number(args.paced ?? 500);
const nets: NetworkId[] = ["xmpp", "matrix", "email"].map((n) => asNetworkId(n));
const domain = (n: string) => `${n}.bench.example`;

const room = {
  key: linkedRoomKey("bench"), origin: "linked" as const, name: "bench", home: nets[0]!, address: canonicalAddress("bench@conference.xmpp.bench.example"),
  natives: new Map(nets.map((n) => [n, { network: n, id: `bench@${domain(n)}` }])), source: { file: "<bench>", line: 0 },
};
const mappings = { ...testMappings({ networks: Object.fromEntries(nets.map((n) => [n, {}])), domains: Object.fromEntries(nets.map((n) => [domain(n), { home: n }])) }), rooms: new RoomDirectory([room]) };

const prefix = `bench-rooms-${randomBytes(4).toString("hex")}`;
const delivery = await createDeliveryService({ networks: nets, prefix, redisUrl: REDIS, concurrency: Number(args.concurrency ?? 32) });
const deliveries = new Map<string, number>();
let latencies: number[] = [];
let expected = 0;
let done = 0;
let finish: () => void = () => undefined;
const roomAdapter = {
  health: () => ({ ready: true, detail: "" }),
  async deliverRoom(d: RoomDelivery): Promise<DeliveryOutcome> {
    const id = activityId(d.activity);
    const n = (deliveries.get(id) ?? 0) + 1;
    deliveries.set(id, n);
    if (n === nets.length - 1) {
      latencies.push(Date.now() - canonicalIdTime(id as never));
      if (++done === expected) finish();
    }
    return { state: "relayed", nativeIds: [] };
  },
} as unknown as Adapter;
const ids = { link: async () => undefined, canonicalFor: async () => undefined, nativeFor: async () => undefined };
const claims = { claim: async () => undefined, release: async () => undefined };
const rooms = new RoomService({
  mappings: () => mappings, rooms: linkedRooms(() => mappings), policy: { mayMessage: async () => ({ allowed: true }) }, delivery, claims, ids,
  adapters: () => roomAdapter, capabilities: () => undefined, log: silentLogger(), metrics: createRoomMetrics(new Registry()),
});
await delivery.startWorkers({ deliver: (job) => rooms.handleJob(job), onFinalFailure: async () => undefined });

const members = nets.flatMap((n) => Array.from({ length: MEMBERS }, (_, i) => endpoint(`m${i}@${domain(n)}`, n)));

/** Send `n` messages, as fast as accept allows (no rate) or paced at `rate` a second; resolves when all are delivered. */
async function run(n: number, rate?: number): Promise<{ seconds: number; latencies: number[] }> {
  latencies = [];
  expected = n;
  done = 0;
  const finished = new Promise<void>((r) => (finish = r));
  const t0 = performance.now();
  const inFlight: Promise<unknown>[] = [];
  for (let i = 0; i < n; i++) {
    if (rate !== undefined) {
      const due = t0 + (i * 1000) / rate;
      if (due > performance.now()) await new Promise((r) => setTimeout(r, due - performance.now()));
    }
    const from = members[i % members.length]!;
    inFlight.push(rooms.accept(from.network, { kind: "room", room: room.natives.get(from.network)!, activity: { type: "message", message: {
      id: newCanonicalId(), from, authenticatedBy: { method: "network" }, sentAt: new Date().toISOString(), parts: [{ role: "text", body: `message ${i}` }],
    } } }));
    if (inFlight.length >= 32) await Promise.all(inFlight.splice(0));
  }
  await Promise.all(inFlight);
  await finished;
  return { seconds: (performance.now() - t0) / 1000, latencies: latencies.sort((a, b) => a - b) };
}
const pct = (l: number[], p: number) => l[Math.min(l.length - 1, Math.floor(l.length * p))];

// 1. Throughput: every message offered at once. One room is one ordered conversation, so its
//    deliveries run one after another; the latency of this phase is the backlog, not the path.
const burst = await run(N);
const total = [...deliveries.values()].reduce((a, b) => a + b, 0);
// 2. Latency: messages offered at RATE a second (below the room's throughput), accept → last delivery.
const paced = await run(PACED_N, RATE);
console.log(`room_members=${MEMBERS * nets.length}`);
console.log(`room_msgs_per_s=${Math.round(N / burst.seconds)}`);
console.log(`deliveries_per_msg=${(total / N).toFixed(2)}`);
console.log(`burst_p50_ms=${pct(burst.latencies, 0.5)}`);
console.log(`burst_p99_ms=${pct(burst.latencies, 0.99)}`);
console.log(`paced_rate_per_s=${RATE}`);
console.log(`p50_ms=${pct(paced.latencies, 0.5)}`);
console.log(`p99_ms=${pct(paced.latencies, 0.99)}`);
await delivery.close();
const redis = new Redis(REDIS);
await deleteKeysUnder(redis, prefix);
redis.disconnect();
