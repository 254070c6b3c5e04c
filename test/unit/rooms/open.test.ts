/** Open rooms in the core (issue 12): checked under the mappings' policy, stored, found like linked rooms, undone on failure. */
import { beforeEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { Registry } from "prom-client";
import type { Adapter, DeliveryOutcome, NetworkAddressing } from "../../../src/adapter/contract.js";
import type { RoomAdapter, RoomAddressing } from "../../../src/adapter/rooms.js";
import { asNetworkId, canonicalAddress, endpoint, type NetworkId } from "../../../src/model/address.js";
import { newCanonicalId } from "../../../src/model/ids.js";
import { linkedRoomKey } from "../../../src/model/room.js";
import { RoomDirectory } from "../../../src/mappings/room-directory.js";
import { ParleyError } from "../../../src/errors/parley-error.js";
import { silentLogger } from "../../../src/log/logger.js";
import { route } from "../../../src/router/route.js";
import { RoomService } from "../../../src/rooms/service.js";
import { OpenRooms, linkedAndOpenRooms } from "../../../src/rooms/open.js";
import { createRoomMetrics } from "../../../src/rooms/metrics.js";
import { MemoryOpenRooms, decodeRoom, encodeRoom } from "../../../src/store/open-rooms.js";
import { unfitRoom } from "../../../adapters/xmpp/muc/open.js";
import { writeRegistration } from "../../../adapters/matrix/registration.js";
import { openRoomAlias } from "../../../adapters/matrix/rooms/open-alias.js";
import { matrixRoomAddressing } from "../../../adapters/matrix/rooms/address.js";
import { MemoryDelivery } from "../../support/memory-delivery.js";
import { MemoryClaims, MemoryIdMap } from "../../support/fake-context.js";
import { testMappings } from "../../support/mappings.js";
import { testDoubleCapabilities } from "../../support/test-double-adapter.js";

const [alpha, beta] = ["alpha", "beta"].map(asNetworkId) as [NetworkId, NetworkId];
const rooms: RoomAddressing = { parseRoom: (n) => n.trim().toLowerCase(), roomAddress: (n) => canonicalAddress(n) };
const addressing = { rooms } as unknown as NetworkAddressing;

class MucPeer implements Pick<Adapter, "health">, RoomAdapter {
  readonly listening: string[] = [];
  refuse: ParleyError | undefined;
  failListen = false;
  health() { return { ready: true, detail: "" }; }
  async deliverRoom(): Promise<DeliveryOutcome> { return { state: "relayed", nativeIds: [] }; }
  async checkOpenRoom(native: string): Promise<void> { if (this.refuse) throw this.refuse; void native; }
  async listenToRoom(native: string): Promise<void> {
    if (this.failListen) throw new ParleyError("PARLEY_REFUSED", "the room did not take Parley's listener");
    this.listening.push(native);
  }
}

const linked = {
  key: linkedRoomKey("team"), origin: "linked" as const, name: "team", home: alpha, address: canonicalAddress("team@conference.chat.example"),
  natives: new Map([[alpha, { network: alpha, id: "team@conference.chat.example" }]]), source: { file: "<test>", line: 1 },
};
const base = testMappings({
  networks: { alpha: { federation: { denyDomains: ["conference.denied.example"] } }, beta: {} },
  domains: { "matrix.example": { home: "beta" } },
});
const mappings = { ...base, rooms: new RoomDirectory([linked]) };
const opener = endpoint("bot@matrix.example", "beta");

describe("open rooms in the core (issue 12)", () => {
  let store: MemoryOpenRooms;
  let muc: MucPeer;
  let open: OpenRooms;
  let registry: Registry;

  beforeEach(() => {
    store = new MemoryOpenRooms();
    muc = new MucPeer();
    registry = new Registry();
    open = new OpenRooms({
      store, mappings: () => mappings, route, adapters: (n) => (n === alpha ? (muc as unknown as Adapter) : undefined),
      addressing: (n) => (n === alpha ? addressing : undefined), log: silentLogger(), metrics: createRoomMetrics(registry),
    });
  });

  it("a Matrix room version 12 id (no server part) opens under the home network's serverName setting", async () => {
    const V12 = "!31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3ogLM";
    const withServer = { ...testMappings({ networks: { alpha: { settings: { serverName: "Home.Example" } }, beta: {} }, domains: { "matrix.example": { home: "beta" } } }), rooms: new RoomDirectory([]) };
    const v12 = new OpenRooms({
      store, mappings: () => withServer, route, adapters: (n) => (n === alpha ? (muc as unknown as Adapter) : undefined),
      addressing: (n) => (n === alpha ? ({ rooms: matrixRoomAddressing } as unknown as NetworkAddressing) : undefined), log: silentLogger(), metrics: createRoomMetrics(new Registry()),
    });
    const home = await v12.check({ network: alpha, id: ` ${V12} ` }, opener);
    expect(home).toEqual({ network: alpha, id: V12 });
    const room = await v12.open(home, { network: beta, id: "!portal:matrix.example" });
    expect(room.address).toBe(`${V12}@home.example`);
    expect(muc.listening).toEqual([V12]);
    await expect(v12.check({ network: alpha, id: `${V12}=` }, opener)).rejects.toMatchObject({ code: "PARLEY_ADDRESS_INVALID" });
  });

  it("checks and returns the room's normalised form; opening stores it, listens, and the room service finds it", async () => {
    const home = await open.check({ network: alpha, id: " Lounge@conference.chat.example" }, opener);
    expect(home).toEqual({ network: alpha, id: "lounge@conference.chat.example" });
    const room = await open.open(home, { network: beta, id: "!portal:matrix.example" });
    expect(room.key).toBe("open:alpha:lounge@conference.chat.example");
    expect(muc.listening).toEqual(["lounge@conference.chat.example"]);
    expect(await open.find({ network: beta, id: "!portal:matrix.example" })).toMatchObject({ key: room.key, origin: "open" });
    expect((await open.list(alpha)).map((r) => r.key)).toEqual([room.key]);

    const delivery = new MemoryDelivery();
    const service = new RoomService({
      mappings: () => mappings, rooms: linkedAndOpenRooms(() => mappings, store), policy: { mayMessage: async () => ({ allowed: true }) },
      delivery, claims: new MemoryClaims(), ids: new MemoryIdMap(), adapters: () => undefined, capabilities: () => testDoubleCapabilities,
      log: silentLogger(), metrics: createRoomMetrics(new Registry()),
    });
    const bob = endpoint("bob@matrix.example", "beta");
    const result = await service.accept(beta, { kind: "room", room: { network: beta, id: "!portal:matrix.example" }, activity: { type: "message", message: { id: newCanonicalId(), from: bob, authenticatedBy: { method: "network" }, sentAt: new Date().toISOString(), parts: [{ role: "text", body: "hi" }] } } });
    expect(result.status).toBe("accepted");
    expect(delivery.pending("room").map((j) => [j.network, j.conversation])).toEqual([["alpha", "room>open:alpha:lounge@conference.chat.example"]]);
  });

  it("refuses, creating nothing: the room's own refusal, the federation policy, a linked room, a network without rooms", async () => {
    muc.refuse = new ParleyError("PARLEY_REFUSED", "the room is members-only");
    await expect(open.check({ network: alpha, id: "members@conference.chat.example" }, opener)).rejects.toThrow("members-only");
    muc.refuse = undefined;
    await expect(open.check({ network: alpha, id: "x@conference.denied.example" }, opener)).rejects.toMatchObject({ code: "PARLEY_REFUSED" });
    await expect(open.check({ network: alpha, id: "team@conference.chat.example" }, opener)).rejects.toThrow("linked by the admin");
    await expect(open.check({ network: beta, id: "!x:matrix.example" }, opener)).rejects.toMatchObject({ code: "PARLEY_ADDRESS_UNKNOWN" });
    expect(await store.list(alpha)).toEqual([]);
    expect(await registry.getSingleMetricAsString("parley_open_rooms_total")).toContain('outcome="PARLEY_REFUSED"');
  });

  it("forgets the room again when the home room does not take Parley's listener", async () => {
    muc.failListen = true;
    await expect(open.open({ network: alpha, id: "lounge@conference.chat.example" }, { network: beta, id: "!p:matrix.example" })).rejects.toThrow("listener");
    expect(await open.find({ network: beta, id: "!p:matrix.example" })).toBeUndefined();
  });

  it("stored rooms read back as they were; garbage reads as nothing", () => {
    const room = { key: "open:alpha:r@c.example", origin: "open" as const, address: canonicalAddress("r@c.example"), home: alpha, natives: new Map([[alpha, { network: alpha, id: "r@c.example" }], [beta, { network: beta, id: "!p:m.example" }]]) };
    expect(decodeRoom(encodeRoom(room))).toEqual(room);
    expect(decodeRoom("{")).toBeUndefined();
    expect(decodeRoom(JSON.stringify({ key: "k" }))).toBeUndefined();
  });
});

describe("open rooms at the edges (issue 12)", () => {
  it("a MUC room is opened only when it exists as a room, is open to all, has no password and shows real JIDs", () => {
    const fit = new Set(["http://jabber.org/protocol/muc", "muc_public", "muc_open", "muc_nonanonymous", "muc_unsecured"]);
    expect(unfitRoom(fit, new Set(["conference"]))).toBeUndefined();
    expect(unfitRoom(fit, new Set(["account"]))?.message).toBe("the address is not a MUC room");
    expect(unfitRoom(new Set([...fit, "muc_membersonly"]), new Set(["conference"]))?.message).toBe("the room is members-only");
    expect(unfitRoom(new Set([...fit, "muc_passwordprotected"]), new Set(["conference"]))?.message).toBe("the room needs a password");
    expect(unfitRoom(new Set(["muc_semianonymous"]), new Set(["conference"]))?.code).toBe("PARLEY_REFUSED");
  });

  it("the registration claims the open-room aliases exclusively, and only those", () => {
    const m = testMappings({ networks: { matrix: { settings: { serverName: "matrix.example.org", puppetPrefix: "_parley_", botLocalpart: "parley" } } }, domains: { "matrix.example.org": { home: "matrix" } } });
    const reg = parse(writeRegistration({ id: "parley", url: null, mappings: m }).yaml) as { namespaces: { aliases: Array<{ exclusive: boolean; regex: string }> } };
    expect(reg.namespaces.aliases).toHaveLength(1);
    const { exclusive, regex } = reg.namespaces.aliases[0]!;
    expect(exclusive).toBe(true);
    const alias = openRoomAlias({ network: asNetworkId("xmpp"), room: "lounge@conference.chat.example.org" }, { puppetPrefix: "_parley_", serverName: "matrix.example.org" });
    expect(new RegExp(`^${regex}$`).test(alias)).toBe(true);
    expect(new RegExp(`^${regex}$`).test("#team:matrix.example.org")).toBe(false);
    expect(new RegExp(`^${regex}$`).test("#_parley_x:matrixXexample.org")).toBe(false);
  });
});
