/**
 * The contract suite bites: a deliberately broken double (test/support/broken-double-adapter.ts)
 * fails every check of it, each on a fresh setup, and none is skipped for want of a hook.
 */
import { describe, expect, it } from "vitest";
import { CONTRACT_CHECKS } from "./checks.js";
import { doubleSetup } from "../support/double-setup.js";
import { brokenDoubleFactory } from "../support/broken-double-adapter.js";

describe("the contract suite against a broken double", () => {
  it.each(CONTRACT_CHECKS.map((c) => [c.name, c] as const))("catches it: %s", async (_name, check) => {
    const s = await doubleSetup(brokenDoubleFactory());
    expect(check.needs?.(s)).toBeUndefined();
    const failure = await check.run(s).then(() => undefined, (e: unknown) => e);
    expect(failure, "the check passed a broken adapter").toBeInstanceOf(Error);
  });
});
