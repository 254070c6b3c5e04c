import { describe, expect, it } from "vitest";
import type { AdapterCapabilities } from "../../../src/adapter/contract.js";
import { asNetworkId, canonicalAddress, endpoint } from "../../../src/model/address.js";
import { newCanonicalId } from "../../../src/model/ids.js";
import { RoomActivitySchema, type RoomActivity } from "../../../src/model/room-events.js";
import { linkedRoomKey, type Room } from "../../../src/model/room.js";
import { roomJobs } from "../../../src/rooms/jobs.js";
import { fitRoomActivity } from "../../../src/rooms/features.js";
import { Writable } from "node:stream";
import { pino } from "pino";
import { testDoubleCapabilities } from "../../support/test-double-adapter.js";

function memoryLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: "debug" }, new Writable({ write: (chunk: Buffer, _e, cb) => { for (const l of chunk.toString().split("\n")) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>); cb(); } }));
  return { lines, logger };
}

const [alpha, beta, gamma] = ["alpha", "beta", "gamma"].map(asNetworkId) as [ReturnType<typeof asNetworkId>, ReturnType<typeof asNetworkId>, ReturnType<typeof asNetworkId>];
const room: Room = {
  key: linkedRoomKey("team"), origin: "linked", home: alpha, address: canonicalAddress("team@conference.chat.example"),
  natives: new Map([[alpha, { network: alpha, id: "team@conference.chat.example" }], [beta, { network: beta, id: "!team:matrix.example" }], [gamma, { network: gamma, id: "team@lists.example" }]]),
};
const all: AdapterCapabilities = { ...testDoubleCapabilities, chat: { reactions: true, retractions: true, replies: true, typing: true } };
const mail: AdapterCapabilities = { ...testDoubleCapabilities, chat: { reactions: false, retractions: false, replies: false, typing: false } };
const caps = (n: string) => (n === "gamma" ? mail : all);
const alice = endpoint("alice@chat.example", "alpha");

const message = (extra: Record<string, unknown>): RoomActivity => RoomActivitySchema.parse({ type: "message", message: {
  id: newCanonicalId(), from: alice, authenticatedBy: { method: "network" }, sentAt: new Date().toISOString(), parts: [{ role: "text", body: "x" }], ...extra,
} });

describe("everyday chat features in rooms (issue 18): what each native room gets", () => {
  it("a reaction and a retraction make no job for a native room whose network cannot show them, and say so", () => {
    const logs = memoryLogger();
    for (const extra of [{ reaction: { target: newCanonicalId(), key: "👍", op: "add" } }, { retracts: newCanonicalId() }]) {
      const jobs = roomJobs(room, alpha, message(extra), false, (t, a) => fitRoomActivity(room, t, a, caps(t.network), logs.logger));
      expect(jobs.map((j) => j.network)).toEqual(["beta"]);
    }
    expect(logs.lines.filter((l) => l.event === "feature-dropped" && l.network === "gamma").map((l) => l.feature)).toEqual(["reactions", "retractions"]);
  });

  it("a reply goes as a plain message to a network without replies, and as a reply to the others", () => {
    const target = newCanonicalId();
    const jobs = roomJobs(room, alpha, message({ inReplyTo: target }), false, (t, a) => fitRoomActivity(room, t, a, caps(t.network), memoryLogger().logger));
    const replyOf = (n: string) => {
      const a = RoomActivitySchema.parse((jobs.find((j) => j.network === n)!.payload as { activity: unknown }).activity);
      return a.type === "message" ? a.message.inReplyTo : "not a message";
    };
    expect(replyOf("beta")).toBe(target);
    expect(replyOf("gamma")).toBeUndefined();
  });

  it("a member's read marker goes only to networks declaring roomReadMarkers", () => {
    const read = RoomActivitySchema.parse({ type: "displayed", displayed: { id: newCanonicalId(), by: alice, target: newCanonicalId(), authenticatedBy: { method: "network" }, at: new Date().toISOString() } });
    const withMarkers: AdapterCapabilities = { ...all, chat: { ...all.chat!, roomReadMarkers: true } };
    const jobs = roomJobs(room, alpha, read, false, (t, a) => fitRoomActivity(room, t, a, t.network === "beta" ? withMarkers : caps(t.network), memoryLogger().logger));
    expect(jobs.map((j) => j.network)).toEqual(["beta"]);
  });

  it("memberships and subjects, and networks with unknown capabilities, pass unchanged", () => {
    const subject = RoomActivitySchema.parse({ type: "subject", subject: { id: newCanonicalId(), by: alice, subject: "s", authenticatedBy: { method: "network" }, at: new Date().toISOString() } });
    expect(fitRoomActivity(room, room.natives.get(gamma)!, subject, mail, memoryLogger().logger)).toBe(subject);
    const reaction = message({ reaction: { target: newCanonicalId(), key: "👍", op: "add" } });
    expect(fitRoomActivity(room, room.natives.get(gamma)!, reaction, undefined, memoryLogger().logger)).toBe(reaction);
  });
});
