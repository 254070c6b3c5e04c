/**
 * Issue 12 bad input, "a room with 10,000 occupants joining at once": 10,000 real XEP-0045
 * occupant presences (non-anonymous: with the real JID; and as many in a semi-anonymous room) fed
 * to the XMPP adapter's MUC inbound (adapters/xmpp/muc/inbound.ts) as the listener receives them,
 * then one groupchat from each. Prints the time per stanza and the heap it keeps, so the storm is
 * shown bounded: each join is one accepted membership activity (the core then makes one delivery
 * per other native room, bench:rooms), constant work per stanza (Parley's own nicks are found in
 * O(1)), and memory linear in the occupants.
 *   npm run bench:muc-joins [-- 10000]
 */
import { asNetworkId, canonicalAddress, type NetworkId } from "../src/model/address.js";
import type { AcceptResult, AdapterContext } from "../src/adapter/contract.js";
import type { CanonicalEvent } from "../src/model/events.js";
import { linkedRoomKey } from "../src/model/room.js";
import { RoomDirectory } from "../src/mappings/room-directory.js";
import { silentLogger } from "../src/log/logger.js";
import { xml, type ComponentLink } from "../adapters/xmpp/connection.js";
import type { XmppRuntime } from "../adapters/xmpp/stanza.js";
import { handleMucStanza } from "../adapters/xmpp/muc/inbound.js";
import { NS_MUC_USER, Occupants } from "../adapters/xmpp/muc/occupants.js";
import { testMappings } from "../test/support/mappings.js";
import { MemoryIdMap, MemoryStateStore } from "../test/support/fake-context.js";

const N = Number(process.argv[2] ?? 10_000);
const xmpp: NetworkId = asNetworkId("xmpp");
const matrix: NetworkId = asNetworkId("matrix");
const USERS = "chat.example.org";
const GW = "matrix.gw.example.org";

async function storm(anonymous: boolean): Promise<void> {
  const room = `${anonymous ? "anon" : "open"}@conference.${USERS}`;
  const link = { key: linkedRoomKey("storm"), origin: "linked" as const, name: "storm", home: xmpp, address: canonicalAddress(room),
    natives: new Map([[xmpp, { network: xmpp, id: room }], [matrix, { network: matrix, id: "!storm:matrix.example.org" }]]), source: { file: "<bench>", line: 0 } };
  const mappings = { ...testMappings({ networks: { xmpp: { settings: { sharedDomains: { matrix: GW } } }, matrix: {} }, domains: { [USERS]: { home: "xmpp" }, "matrix.example.org": { home: "matrix" } } }), rooms: new RoomDirectory([link]) };
  let accepted = 0;
  const ctx = {
    network: xmpp, log: silentLogger(), state: new MemoryStateStore(), ids: new MemoryIdMap(), mappings: () => mappings,
    accept: async (events: readonly CanonicalEvent[]): Promise<AcceptResult[]> => { accepted += events.length; return events.map(() => ({ status: "accepted" as const })); },
  } as unknown as AdapterContext;
  const rt = { ctx, link: { send: async () => 1 } as unknown as ComponentLink, config: { confirmTimeoutMs: 1_000, maxBodyBytes: 65_536 }, log: silentLogger(), domains: new Set([GW]) } as unknown as XmppRuntime;
  const o = new Occupants(rt);
  const listener = o.listenerJid();
  global.gc?.();
  const heap0 = process.memoryUsage().heapUsed; // after gc: what the storm adds is kept state, not garbage
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const item = anonymous ? xml("item", { role: "participant", affiliation: "none" }) : xml("item", { jid: `user${i}@${USERS}/res`, role: "participant", affiliation: "none" });
    await handleMucStanza(rt, o, xml("presence", { from: `${room}/nick ${i}`, to: listener }, xml("x", { xmlns: NS_MUC_USER }, item)));
  }
  const joinMs = performance.now() - t0;
  const joins = accepted;
  const t1 = performance.now();
  for (let i = 0; i < N; i++) {
    await handleMucStanza(rt, o, xml("message", { from: `${room}/nick ${i}`, to: listener, type: "groupchat", id: `m${i}` }, xml("body", {}, `hello ${i}`)));
  }
  const msgMs = performance.now() - t1;
  global.gc?.();
  const heapMb = (process.memoryUsage().heapUsed - heap0) / 1_048_576;
  if (!o.bridges(room)) throw new Error("the room is not bridged"); // keeps the occupants (and what they know) alive while measured
  console.log(`room=${anonymous ? "semi-anonymous" : "non-anonymous"} occupants=${N} joins_accepted=${joins} join_us_per_stanza=${((joinMs * 1000) / N).toFixed(1)} join_total_ms=${joinMs.toFixed(0)} messages_accepted=${accepted - joins} msg_us_per_stanza=${((msgMs * 1000) / N).toFixed(1)} heap_kept_mb=${heapMb.toFixed(1)}`);
}

await storm(false);
await storm(true);
