/** Issue 18 in rooms: a list (the email side of a room) never posts a reaction or a retraction as a member's mail. */
import { describe, expect, it } from "vitest";
import { Writable } from "node:stream";
import { pino } from "pino";
import { ListOutbound, type ListOutboundDeps } from "../../../adapters/email/list/outbound.js";
import { EmailConfigSchema } from "../../../adapters/email/config.js";
import { endpoint } from "../../../src/model/address.js";
import { newCanonicalId } from "../../../src/model/ids.js";
import { RoomDeliverySchema } from "../../../src/model/room-events.js";

function outbound(reactionNotices: boolean) {
  const lines: Array<Record<string, unknown>> = [];
  const sent: unknown[] = [];
  const log = pino({ level: "debug" }, new Writable({ write: (c: Buffer, _e, cb) => { for (const l of c.toString().split("\n")) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>); cb(); } }));
  // Only what the drop path may touch; anything else would throw (and fail the test).
  const deps = { config: EmailConfigSchema.parse({ reactionNotices }), log, sender: { send: async (m: unknown) => { sent.push(m); } } } as unknown as ListOutboundDeps;
  return { list: new ListOutbound(deps), lines, sent };
}

const delivery = (extra: Record<string, unknown>) => RoomDeliverySchema.parse({
  room: { key: "link:team", address: "team@conference.chat.example", home: "xmpp" },
  target: { network: "email", id: "team@lists.example" },
  activity: { type: "message", message: { id: newCanonicalId(), from: endpoint("alice@chat.example", "xmpp"), authenticatedBy: { method: "network" }, sentAt: new Date().toISOString(), parts: [{ role: "text", body: "👍" }], ...extra } },
});

describe("a list and everyday chat features (issue 18 in rooms)", () => {
  it("a reaction with reactionNotices off, and a retraction always, send no mail and say so", async () => {
    const { list, lines, sent } = outbound(false);
    expect(await list.deliver(delivery({ reaction: { target: newCanonicalId(), key: "👍", op: "add" } }))).toEqual({ state: "relayed", nativeIds: [] });
    const on = outbound(true);
    expect(await on.list.deliver(delivery({ retracts: newCanonicalId() }))).toEqual({ state: "relayed", nativeIds: [] });
    expect(sent).toHaveLength(0);
    expect(on.sent).toHaveLength(0);
    expect(lines.find((l) => l.event === "feature-dropped")?.feature).toBe("reactions");
    expect(on.lines.find((l) => l.event === "feature-dropped")?.feature).toBe("retractions");
  });
});
