/**
 * Issue 12: one linked room across networks, with real peers — a Prosody MUC room (mod_muc, the
 * harness's conference component), a Synapse room with real members, Parley's puppets in both.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { Preset, Visibility } from "matrix-js-sdk";
import { endpoint, canonicalAddress, asNetworkId } from "../../../src/model/address.js";
import { linkedRoomKey } from "../../../src/model/room.js";
import { RoomDirectory } from "../../../src/mappings/room-directory.js";
import type { TestGateway } from "../../support/gateway.js";
import { connectUser, xml, type TestUser, type Stanza } from "../xmpp/support.js";
import { startUser, uniqueName, type TestMatrixUser } from "../../harness/synapse/clients.js";
import { mtaCoordinates } from "../../harness/mta/inject.js";
import { crossFactories, startCrossGateway } from "./gateway.js";

const SLOT = 4;
const prosody = inject("prosody");
const synapse = inject("synapse");
const MUC = `team-${Date.now().toString(36)}@conference.${prosody.userDomain}`;

let gw: TestGateway;
let alice: TestUser;
let bob: TestMatrixUser;
let roomId: string;
let puppetOf: (net: "xmpp" | "matrix", address: string, home: "xmpp" | "matrix") => string;

const groupchat = (body: string) => (s: Stanza) => s.name === "message" && s.attrs.type === "groupchat" && s.getChildText("body") === body;

beforeAll(async () => {
  alice = await connectUser("alice", { resource: "rooms" });
  await alice.send(xml("presence", { to: `${MUC}/alice` }, xml("x", { xmlns: "http://jabber.org/protocol/muc" })));
  await alice.inbox.next((s) => s.name === "presence" && s.attrs.from === `${MUC}/alice`, 10_000, "MUC self-presence");
  bob = await startUser(synapse.baseUrl, synapse.registrationSharedSecret, uniqueName("bob"));
  ({ room_id: roomId } = await bob.client.createRoom({ preset: Preset.PublicChat, visibility: Visibility.Private, name: "team" }));
  const [xmpp, matrix] = [asNetworkId("xmpp"), asNetworkId("matrix")];
  const link = {
    key: linkedRoomKey("team"), origin: "linked" as const, name: "team", home: xmpp, address: canonicalAddress(MUC),
    natives: new Map([[xmpp, { network: xmpp, id: MUC }], [matrix, { network: matrix, id: roomId }]]), source: { file: "<test>", line: 0 },
  };
  const started = await startCrossGateway({ prosody, synapse, mta: mtaCoordinates() }, SLOT, undefined, undefined, {}, (m) => ({ ...m, rooms: new RoomDirectory([link]) }));
  gw = started.gw;
  const f = crossFactories();
  puppetOf = (net, address, home) => f[net].addressing.toNative(endpoint(address, home), started.mappings);
  // The bridge bot joins the linked Matrix room at start; the listener joins the MUC once the link is up.
  await bob.waitForEvent((e) => e.getType() === "m.room.member" && e.getRoomId() === roomId && (e.getStateKey() ?? "").includes(synapse.appservices[SLOT]!.botLocalpart), 30_000, "the bridge bot in the room");
  await alice.inbox.next((s) => s.name === "presence" && (s.attrs.from ?? "").endsWith("/parley-bridge"), 30_000, "the listener occupant");
}, 120_000);

afterAll(async () => {
  bob?.stop();
  await alice?.stop();
  await gw?.destroy();
});

describe("issue 12: a linked room, XMPP MUC ↔ Matrix", () => {
  it("an XMPP occupant's message reaches the Matrix room once, from that person's own puppet", async () => {
    await alice.send(xml("message", { to: MUC, type: "groupchat", id: "r1" }, xml("body", {}, "hello from the MUC")));
    const ev = await bob.waitForMessage("hello from the MUC", undefined, 30_000);
    expect(ev.getRoomId()).toBe(roomId);
    expect(ev.getSender()).toBe(puppetOf("matrix", alice.bare, "xmpp"));
  });

  it("a Matrix member's messages reach the MUC once each, in order, from their puppet occupant", async () => {
    for (const n of [1, 2, 3]) await bob.say(roomId, { msgtype: "m.text", body: `from matrix ${n}` });
    const got: Stanza[] = [];
    for (const n of [1, 2, 3]) got.push(await alice.inbox.next(groupchat(`from matrix ${n}`), 30_000, `groupchat ${n}`));
    const bobLocal = bob.user.userId.slice(1, bob.user.userId.indexOf(":"));
    expect(new Set(got.map((s) => s.attrs.from))).toEqual(new Set([`${MUC}/${bobLocal}`]));
    await bob.say(roomId, { msgtype: "m.text", body: "sentinel" });
    await alice.inbox.next(groupchat("sentinel"), 30_000, "sentinel");
    expect(alice.inbox.seen.filter(groupchat("from matrix 1"))).toHaveLength(0);
    // Parley's own groupchat, reflected by the room to the listener, did not come back to Matrix.
    expect(bob.events.filter((e) => e.getRoomId() === roomId && e.getContent().body === "hello from the MUC")).toHaveLength(1);
  });
});
