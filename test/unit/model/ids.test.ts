import { describe, expect, it } from "vitest";
import { CanonicalIdSchema, canonicalIdTime, newCanonicalId } from "../../../src/model/ids.js";

describe("canonical ids (T-4.1.9)", () => {
  it("T-4.1.9 mints 10^6 distinct, time-ordered UUIDv7 ids", { timeout: 60_000 }, () => {
    const seen = new Set<string>();
    let previousTime = 0;
    let outOfOrder = 0;
    for (let i = 0; i < 1_000_000; i++) {
      const id = newCanonicalId();
      seen.add(id);
      const t = canonicalIdTime(id);
      if (t < previousTime) outOfOrder++;
      previousTime = t;
    }
    expect(seen.size).toBe(1_000_000);
    expect(outOfOrder).toBe(0);
  });

  it("T-4.1.9 parses its own ids and refuses others with a reason", () => {
    const id = newCanonicalId(Date.UTC(2026, 0, 1));
    expect(CanonicalIdSchema.parse(id)).toBe(id);
    expect(canonicalIdTime(id)).toBe(Date.UTC(2026, 0, 1));
    const bad = CanonicalIdSchema.safeParse("not-an-id");
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.message).toMatch(/UUIDv7/);
  });
});
