/**
 * Issue 10: the Matrix adapter notices the homeserver answering again (adapters/matrix/reachability.ts)
 * once per recovery, which starts one catch-up (catch-up.ts) — never one per probe or delivery.
 */
import { describe, expect, it } from "vitest";
import { MatrixError } from "matrix-js-sdk";
import { answered, Reachability } from "../../../adapters/matrix/reachability.js";

describe("homeserver reachability (issue 10)", () => {
  it("calls back once when the homeserver answers again, not while it keeps answering", async () => {
    let fail: unknown;
    let backs = 0;
    const r = new Reachability(async () => { if (fail !== undefined) throw fail as Error; }, () => { backs++; }, true);
    await r.check();
    r.mark(true);
    expect(backs).toBe(0); // answering all along: nothing to catch up
    fail = new TypeError("fetch failed"); // connection refused
    await r.check();
    expect(r.ok).toBe(false);
    fail = new MatrixError({ errcode: "M_UNKNOWN" }, 502); // a proxy in front of a starting homeserver
    await r.check();
    expect(r.ok).toBe(false);
    fail = undefined;
    await r.check();
    r.mark(true);
    await r.check();
    expect(backs).toBe(1);
    r.mark(false);
    r.mark(true);
    expect(backs).toBe(2);
  });

  it("counts an HTTP refusal as an answer", () => {
    expect(answered(new MatrixError({ errcode: "M_FORBIDDEN" }, 403))).toBe(true);
    expect(answered(new MatrixError({ errcode: "M_UNKNOWN" }, 503))).toBe(false);
    expect(answered(new Error("socket hang up"))).toBe(false);
  });
});
