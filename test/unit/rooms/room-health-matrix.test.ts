/**
 * Issue 12: a bridged Matrix room that removed the bridge bot or a puppet shows in the Matrix
 * adapter's health (LinkHealth.rooms → /readyz detail, parley_room_links_unhealthy), counted once
 * in parley_room_link_failures_total; an invite or unban clears it (rooms/removed.ts).
 */
import { describe, expect, it } from "vitest";
import { silentLogger } from "../../../src/log/logger.js";
import type { RoomLinkFailure } from "../../../src/adapter/contract.js";
import { ownUserMembership, refuseIfRemoved, RemovedRooms } from "../../../adapters/matrix/rooms/removed.js";
import type { MatrixDeps } from "../../../adapters/matrix/deps.js";
import type { MatrixEvent } from "../../../adapters/matrix/types.js";
import { MemoryStateStore } from "../../support/fake-context.js";

const BOT = "@bot:matrix.example.org";
const PUPPET = "@_parley_xmpp_alice=40chat.example.org:matrix.example.org";
const ROOM = "!r:matrix.example.org";
const MOD = "@mod:matrix.example.org";

function deps(): { d: MatrixDeps; removed: RemovedRooms; counted: RoomLinkFailure[] } {
  const removed = new RemovedRooms();
  const counted: RoomLinkFailure[] = [];
  const state = new MemoryStateStore();
  const d = { ctx: { state, roomLinkFailed: (r: RoomLinkFailure) => counted.push(r) }, log: silentLogger(), bot: BOT, removedRooms: removed } as unknown as MatrixDeps;
  return { d, removed, counted };
}

const member = (user: string, membership: string, sender: string, prev?: string): MatrixEvent => ({
  type: "m.room.member", room_id: ROOM, event_id: `$${Math.random()}`, sender, state_key: user, origin_server_ts: Date.now(),
  content: { membership }, ...(prev ? { unsigned: { prev_content: { membership: prev } } } : {}),
});

describe("issue 12: a Matrix room that removed Parley is unhealthy until it is back", () => {
  it("the bot kicked: shown with who kicked it, counted once; an invite clears it", async () => {
    const { d, removed, counted } = deps();
    await ownUserMembership(d, member(BOT, "leave", MOD, "join"));
    expect(removed.unhealthy(BOT)).toEqual([{ room: ROOM, reason: "kicked", detail: `the bridge bot was kicked from the Matrix room ${ROOM} by ${MOD}` }]);
    await expect(refuseIfRemoved(d, ROOM, BOT)).rejects.toThrow("kicked");
    expect(counted).toEqual(["kicked"]);
    await ownUserMembership(d, member(BOT, "invite", MOD, "leave"));
    expect(removed.unhealthy(BOT)).toEqual([]);
  });

  it("a puppet banned: one entry for the room (the bot's first when both are out); an unban clears it; a remembered ban is learnt from a delivery", async () => {
    const { d, removed, counted } = deps();
    await ownUserMembership(d, member(PUPPET, "ban", MOD, "join"));
    await ownUserMembership(d, member(BOT, "leave", MOD, "join"));
    expect(removed.unhealthy(BOT).map((r) => r.reason)).toEqual(["kicked"]);
    await ownUserMembership(d, member(BOT, "invite", MOD, "leave"));
    expect(removed.unhealthy(BOT).map((r) => r.reason)).toEqual(["banned"]);
    await ownUserMembership(d, member(PUPPET, "leave", MOD, "ban"));
    expect(removed.unhealthy(BOT)).toEqual([]);
    expect(counted).toEqual(["banned", "kicked"]);

    // Another process remembered the ban in Redis: this one learns it when a delivery meets it.
    const other = deps();
    await d.ctx.state.set(`removed:${ROOM}|${PUPPET}`, `banned from the Matrix room ${ROOM} by ${MOD}`);
    const shared = { ...other.d, ctx: { ...d.ctx, roomLinkFailed: (r: RoomLinkFailure) => other.counted.push(r) } } as unknown as MatrixDeps;
    await expect(refuseIfRemoved(shared, ROOM, PUPPET)).rejects.toThrow("banned");
    await expect(refuseIfRemoved(shared, ROOM, PUPPET)).rejects.toThrow("banned");
    expect(other.removed.unhealthy(BOT).map((r) => r.reason)).toEqual(["banned"]);
    expect(other.counted).toEqual(["banned"]);
  });
});
