import { beforeEach, describe, expect, it } from "vitest";
import { Registry } from "prom-client";
import type { Adapter, DeliveryOutcome } from "../../../src/adapter/contract.js";
import type { RoomAdapter } from "../../../src/adapter/rooms.js";
import type { MessagePolicy } from "../../../src/core/ports.js";
import { asNetworkId, canonicalAddress, endpoint, type Endpoint, type NetworkId } from "../../../src/model/address.js";
import { newCanonicalId } from "../../../src/model/ids.js";
import type { RoomActivityInput, RoomDelivery, RoomEvent } from "../../../src/model/room-events.js";
import { linkedRoomKey } from "../../../src/model/room.js";
import { RoomDirectory, type LinkedRoom } from "../../../src/mappings/room-directory.js";
import { ParleyError } from "../../../src/errors/parley-error.js";
import { silentLogger } from "../../../src/log/logger.js";
import { RoomService, linkedRooms } from "../../../src/rooms/service.js";
import { createRoomMetrics } from "../../../src/rooms/metrics.js";
import { MemoryDelivery } from "../../support/memory-delivery.js";
import { MemoryClaims, MemoryIdMap } from "../../support/fake-context.js";
import { testMappings } from "../../support/mappings.js";
import { testDoubleCapabilities } from "../../support/test-double-adapter.js";

const [alpha, beta, gamma] = ["alpha", "beta", "gamma"].map(asNetworkId) as [NetworkId, NetworkId, NetworkId];
const team: LinkedRoom = {
  key: linkedRoomKey("team"), origin: "linked", name: "team", home: alpha,
  address: canonicalAddress("team@conference.chat.example"),
  natives: new Map([[alpha, { network: alpha, id: "team@conference.chat.example" }], [beta, { network: beta, id: "!team:matrix.example" }], [gamma, { network: gamma, id: "team@lists.example" }]]),
  source: { file: "<test>", line: 1 },
};

const base = testMappings({ networks: { alpha: {}, beta: {}, gamma: {} }, domains: { "chat.example": { home: "alpha" }, "matrix.example": { home: "beta" }, "off.example": { home: "alpha", policy: { messaging: false } } } });
const mappings = { ...base, rooms: new RoomDirectory([team]) };

/** A room-capable network that records what it was asked to show. */
class RoomPeer implements Pick<Adapter, "health">, RoomAdapter {
  readonly shown: RoomDelivery[] = [];
  health() { return { ready: true, detail: "" }; }
  async deliverRoom(d: RoomDelivery): Promise<DeliveryOutcome> {
    this.shown.push(d);
    return { state: "relayed", nativeIds: [{ network: d.target.network, kind: "event", id: `native-${this.shown.length}`, scope: d.target.id }] };
  }
}

const alice = endpoint("alice@chat.example", "alpha");
const bob = endpoint("bob@matrix.example", "beta");
const blocked = new Set<string>();
const policy: MessagePolicy = { async mayMessage(from: Endpoint) { return blocked.has(from.address) ? { allowed: false, error: new ParleyError("PARLEY_REFUSED", "blocked") } : { allowed: true }; } };

function say(from: Endpoint, text: string, extra: Record<string, unknown> = {}): RoomEvent {
  const native = team.natives.get(from.network)!;
  const activity: RoomActivityInput = { type: "message", message: { id: newCanonicalId(), from, authenticatedBy: { method: "network" }, sentAt: new Date().toISOString(), parts: [{ role: "text", body: text }], ...extra } };
  return { kind: "room", room: native, activity };
}

describe("rooms in the core (issue 12)", () => {
  let delivery: MemoryDelivery;
  let claims: MemoryClaims;
  let ids: MemoryIdMap;
  let peers: Map<NetworkId, RoomPeer>;
  let rooms: RoomService;

  beforeEach(() => {
    delivery = new MemoryDelivery();
    claims = new MemoryClaims();
    ids = new MemoryIdMap();
    blocked.clear();
    peers = new Map([alpha, beta, gamma].map((n) => [n, new RoomPeer()]));
    rooms = new RoomService({
      mappings: () => mappings, rooms: linkedRooms(() => mappings), policy, delivery, claims, ids,
      adapters: (n) => peers.get(n) as unknown as Adapter, capabilities: () => testDoubleCapabilities,
      log: silentLogger(), metrics: createRoomMetrics(new Registry()),
    });
  });

  it("a room message is one job per other bridged native room, ordered by the room, never per member", async () => {
    const result = await rooms.accept(alpha, say(alice, "hello room"));
    expect(result.status).toBe("accepted");
    const jobs = delivery.pending("room");
    expect(jobs.map((j) => j.network).sort()).toEqual(["beta", "gamma"]);
    expect(new Set(jobs.map((j) => j.conversation))).toEqual(new Set(["room>link:team"]));
  });

  it("a room Parley serves itself (a list) gets its own members' activity back, once, for the other members", async () => {
    (peers.get(gamma) as unknown as { hostsRoom: () => boolean }).hostsRoom = () => true;
    const carol = endpoint("carol@lists.example", "gamma");
    await rooms.accept(gamma, say(carol, "from the list"));
    expect(delivery.pending("room").map((j) => j.network).sort()).toEqual(["alpha", "beta", "gamma"]);
    await rooms.accept(alpha, say(alice, "from the muc"));
    expect(delivery.pending("room").filter((j) => j.network === "alpha")).toHaveLength(1);
  });

  it("hosting is per room: an adapter that serves one of its rooms but not another gets only the hosted one back", async () => {
    const asked: string[] = [];
    (peers.get(alpha) as unknown as { hostsRoom: (n: string) => boolean }).hostsRoom = (n) => { asked.push(n); return false; };
    await rooms.accept(alpha, say(alice, "from a server-kept room"));
    expect(delivery.pending("room").map((j) => j.network).sort()).toEqual(["beta", "gamma"]);
    expect(asked).toEqual(["team@conference.chat.example"]);
  });

  it("messages from several members keep the room's order in every native room", async () => {
    for (let i = 0; i < 5; i++) await rooms.accept(i % 2 ? beta : alpha, say(i % 2 ? bob : alice, `m${i}`));
    await delivery.drain({ deliver: (job) => rooms.handleJob(job), onFinalFailure: async () => undefined });
    const text = (d: RoomDelivery) => (d.activity.type === "message" && d.activity.message.parts[0]?.role === "text" ? d.activity.message.parts[0].body : "");
    expect(peers.get(gamma)!.shown.map(text)).toEqual(["m0", "m1", "m2", "m3", "m4"]);
    expect(peers.get(alpha)!.shown.map(text)).toEqual(["m1", "m3"]);
    expect(peers.get(beta)!.shown.map(text)).toEqual(["m0", "m2", "m4"]);
  });

  it("a bridged message coming back with the native id Parley's send got is an echo, recognised by id", async () => {
    await rooms.accept(alpha, say(alice, "hi"));
    await delivery.drain({ deliver: (job) => rooms.handleJob(job), onFinalFailure: async () => undefined });
    const native = peers.get(beta)!.shown[0]!;
    expect(native).toBeDefined();
    const echo = say(bob, "hi", { nativeIds: [{ network: "beta", kind: "event", id: "native-1", scope: "!team:matrix.example" }] });
    expect(await rooms.accept(beta, echo)).toEqual({ status: "duplicate" });
  });

  it("T-2.5.2 a replayed native id is delivered once", async () => {
    const nativeIds = [{ network: "alpha", kind: "stanza-id", id: "s1", scope: "team@conference.chat.example" }];
    await rooms.accept(alpha, say(alice, "once", { nativeIds }));
    expect(await rooms.accept(alpha, say(alice, "once", { nativeIds }))).toEqual({ status: "duplicate" });
    expect(delivery.pending("room")).toHaveLength(2);
  });

  it("T-2.4.3 hop count 0 is a loop error; hops go down by one on the way out", async () => {
    const r = await rooms.accept(alpha, say(alice, "loop", { hops: 0 }));
    expect(r.status === "refused" && r.error.code).toBe("PARLEY_LOOP");
    await rooms.accept(alpha, say(alice, "ok", { hops: 5 }));
    const payload = delivery.pending("room")[0]!.payload as RoomDelivery;
    expect(payload.activity.type === "message" && payload.activity.message.hops).toBe(4);
  });

  it("refuses a native room that is not bridged, an actor from another network, a blocked sender and a switched-off domain", async () => {
    const unknown = { ...say(alice, "x"), room: { network: alpha, id: "other@conference.chat.example" } };
    expect((await rooms.accept(alpha, unknown)).status).toBe("refused");
    const r2 = await rooms.accept(beta, say(alice, "x"));
    expect(r2.status === "refused" && r2.error.code).toBe("PARLEY_NOT_AUTHENTICATED");
    blocked.add(alice.address);
    const r3 = await rooms.accept(alpha, say(alice, "x"));
    expect(r3.status === "refused" && r3.error.code).toBe("PARLEY_REFUSED");
    const r4 = await rooms.accept(alpha, say(endpoint("eve@off.example", "alpha"), "x"));
    expect(r4.status === "refused" && r4.error.code).toBe("PARLEY_DISABLED");
    expect(delivery.stored).toHaveLength(0);
  });

  it("membership and subject changes cross like messages, and a bad one is refused with the field named", async () => {
    const join = { kind: "room" as const, room: team.natives.get(beta)!, activity: { type: "membership" as const, membership: { id: newCanonicalId(), member: bob, change: "join" as const, displayName: "Bob", authenticatedBy: { method: "network" as const }, at: new Date().toISOString() } } };
    expect((await rooms.accept(beta, join)).status).toBe("accepted");
    const longNick = { ...join, activity: { ...join.activity, membership: { ...join.activity.membership, id: newCanonicalId(), displayName: "n".repeat(1000) } } };
    const r = await rooms.accept(beta, longNick);
    expect(r.status === "refused" && r.error.message).toContain("displayName");
    expect(delivery.pending("room").map((j) => j.network).sort()).toEqual(["alpha", "gamma"]);
  });

  it("a room message that fails for good is reported to its sender", async () => {
    await rooms.accept(alpha, say(alice, "lost"));
    const job = delivery.pending("room")[0]!;
    delivery.clear();
    const { DeliveryError } = await import("../../../src/adapter/contract.js");
    await rooms.onFinalFailure({ ...job, conversation: job.conversation, attempt: 5 }, new DeliveryError("permanent", "refused-by-policy", "banned"));
    const [status] = delivery.pending("status");
    expect(status?.network).toBe("alpha");
    expect((status?.payload as { state: string }).state).toBe("failed");
  });
});
