/**
 * Who may moderate from Matrix (issue 18, XEP-0425 ↔ redactions): a member whose power level in
 * `m.room.power_levels` reaches the room's `redact` level (default 50), or, from room version 12
 * on, one of the room's creators (not listed in `users`). Parley reads it itself rather than trust
 * that every redaction it is sent was one the homeserver applied.
 */
import { describe, expect, it } from "vitest";
import pino from "pino";
import { mayRedactOthers } from "../../../adapters/matrix/features/relations.js";
import type { MatrixDeps } from "../../../adapters/matrix/deps.js";

const ROOM = "!r:matrix.example.org";

function deps(state: Record<string, unknown>): MatrixDeps {
  const hs = {
    request: (_user: string, _method: string, path: string) => {
      const type = decodeURIComponent(path.split("/state/")[1]!.replace(/\/$/, ""));
      return type in state ? Promise.resolve(state[type]) : Promise.reject(new Error("M_NOT_FOUND"));
    },
  };
  return { hs, log: pino({ level: "silent" }) } as unknown as MatrixDeps;
}

const v10 = { sender: "@creator:matrix.example.org", content: { room_version: "10" } };
const v12 = { sender: "@creator:matrix.example.org", content: { room_version: "12", additional_creators: ["@co:matrix.example.org"] } };

describe("mayRedactOthers", () => {
  it("a member at the room's redact level may; one below may not; the default redact level is 50", async () => {
    const d = deps({ "m.room.power_levels": { users: { "@mod:matrix.example.org": 50, "@user:matrix.example.org": 49 } }, "m.room.create": v10 });
    expect(await mayRedactOthers(d, "@bot:x", ROOM, "@mod:matrix.example.org")).toBe(true);
    expect(await mayRedactOthers(d, "@bot:x", ROOM, "@user:matrix.example.org")).toBe(false);
  });

  it("follows the room's own redact level and users_default", async () => {
    const d = deps({ "m.room.power_levels": { redact: 10, users_default: 10, users: {} }, "m.room.create": v10 });
    expect(await mayRedactOthers(d, "@bot:x", ROOM, "@anyone:matrix.example.org")).toBe(true);
    const strict = deps({ "m.room.power_levels": { redact: 100, users: { "@mod:matrix.example.org": 50 } }, "m.room.create": v10 });
    expect(await mayRedactOthers(strict, "@bot:x", ROOM, "@mod:matrix.example.org")).toBe(false);
  });

  it("from room version 12, the creators may though absent from users; before it, a creator is a member like any", async () => {
    const pl = { "m.room.power_levels": { users: {} } };
    expect(await mayRedactOthers(deps({ ...pl, "m.room.create": v12 }), "@bot:x", ROOM, "@creator:matrix.example.org")).toBe(true);
    expect(await mayRedactOthers(deps({ ...pl, "m.room.create": v12 }), "@bot:x", ROOM, "@co:matrix.example.org")).toBe(true);
    expect(await mayRedactOthers(deps({ ...pl, "m.room.create": v12 }), "@bot:x", ROOM, "@other:matrix.example.org")).toBe(false);
    expect(await mayRedactOthers(deps({ ...pl, "m.room.create": v10 }), "@bot:x", ROOM, "@creator:matrix.example.org")).toBe(false);
  });

  it("power levels it cannot read mean no", async () => {
    expect(await mayRedactOthers(deps({}), "@bot:x", ROOM, "@mod:matrix.example.org")).toBe(false);
  });
});
