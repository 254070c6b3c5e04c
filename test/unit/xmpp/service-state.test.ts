/**
 * Occupants of Parley's own MUC service rooms (issue 12, adapters/xmpp/muc/service-state.ts): one
 * nick per occupant, the documented collision rule for Matrix members (`name`, `name [matrix]`,
 * then numbered), a local nick in use is seen as held, and leaving frees the nick.
 */
import { describe, expect, it } from "vitest";
import { ServiceRoomState } from "../../../adapters/xmpp/muc/service-state.js";
import { endpoint } from "../../../src/model/address.js";
import { MemoryStateStore } from "../../support/fake-context.js";

const ROOM = "#lounge\\3amatrix.example.org@matrix.gw.example.org";
const dora = endpoint("dora@matrix.example.org", "matrix");
const dora2 = endpoint("dora2@matrix.example.org", "matrix");
const dora3 = endpoint("dora3@matrix.example.org", "matrix");

describe("MUC service room state", () => {
  it("a Matrix member's nick: the display name, then 'name [matrix]', then numbered; an XMPP occupant's nick is held", async () => {
    const st = new ServiceRoomState(new MemoryStateStore());
    await st.addLocal(ROOM, "grace@xmpp.example/phone", "Dora");
    expect(await st.addRemote(ROOM, dora, "Dora", 64)).toBe("Dora [matrix]");
    expect(await st.addRemote(ROOM, dora2, "Dora", 64)).toBe("Dora [matrix 2]");
    expect(await st.holderOf(ROOM, "Dora")).toBe("l|grace@xmpp.example/phone");
    const { local, remote } = await st.occupants(ROOM);
    expect([...local]).toEqual([["grace@xmpp.example/phone", "Dora"]]);
    expect([...remote.values()].map((o) => o.nick).sort()).toEqual(["Dora [matrix 2]", "Dora [matrix]"]);
  });

  it("a nick is cut to the limit, a rename frees the old nick, leaving frees the nick", async () => {
    const st = new ServiceRoomState(new MemoryStateStore());
    expect(await st.addRemote(ROOM, dora3, "x".repeat(100), 64)).toBe("x".repeat(64));
    expect(await st.addRemote(ROOM, dora3, "Dee", 64)).toBe("Dee");
    expect(await st.holderOf(ROOM, "x".repeat(64))).toBeUndefined();
    expect((await st.removeRemote(ROOM, dora3))?.nick).toBe("Dee");
    expect(await st.holderOf(ROOM, "Dee")).toBeUndefined();
    await st.addLocal(ROOM, "grace@xmpp.example/phone", "grace");
    await st.removeLocal(ROOM, "grace@xmpp.example/phone", "grace");
    expect(await st.holderOf(ROOM, "grace")).toBeUndefined();
    expect((await st.occupants(ROOM)).local.size).toBe(0);
  });
});
