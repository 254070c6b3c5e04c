/** Failure vocabulary (RFC 6120 §8.3, RFC 7247 §7) and reconnect backoff of the XMPP adapter. */
import { describe, expect, it } from "vitest";
import { errorForParleyError, errorForReason, reasonForCondition } from "../../../adapters/xmpp/errors.js";
import { backoffMs } from "../../../adapters/xmpp/connection.js";
import { ERROR_CODES, type ErrorCode } from "../../../src/errors/codes.js";
import { ParleyError } from "../../../src/errors/parley-error.js";
import { FailureReasonSchema } from "../../../src/model/delivery-status.js";

describe("XMPP error mapping", () => {
  it("T-5.4.1 a passing gateway failure reaches the user as neutral text, never the internal detail", () => {
    const internal = new ParleyError("PARLEY_UNAVAILABLE", "Redis refused a state write: Stream isn't writeable");
    const spec = errorForParleyError(internal);
    expect(spec).toMatchObject({ type: "wait", condition: "service-unavailable", text: ERROR_CODES.PARLEY_UNAVAILABLE.summary });
    expect(errorForParleyError(new ParleyError("PARLEY_INTERNAL", "TypeError: x is undefined")).text).toBe(ERROR_CODES.PARLEY_INTERNAL.summary);
    // A refusal keeps its own text: it tells the sender what to change.
    expect(errorForParleyError(new ParleyError("PARLEY_TOO_LARGE", "the body is larger than 10 bytes")).text).toBe("the body is larger than 10 bytes");
  });
  it("T-5.4.1 maps every neutral reason to a stanza error with text, and RFC 7247 §7's pairs as written", () => {
    for (const r of FailureReasonSchema.options) {
      const e = errorForReason(r, "why");
      expect(e.text).toBe("why");
      expect(["cancel", "modify", "wait", "auth"]).toContain(e.type);
    }
    expect(errorForReason("recipient-unknown", "").condition).toBe("item-not-found");
    expect(errorForReason("timeout", "").condition).toBe("remote-server-timeout");
    expect(errorForReason("unavailable", "").condition).toBe("recipient-unavailable");
    expect(errorForReason("too-large", "").condition).toBe("policy-violation");
  });

  it("T-2.3.5 a policy refusal is neutral (service-unavailable), never naming the block", () => {
    expect(errorForParleyError(new ParleyError("PARLEY_REFUSED")).condition).toBe("service-unavailable");
  });

  it("maps every catalogued code", () => {
    for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) expect(errorForParleyError(new ParleyError(code)).condition).toBeTruthy();
    expect(errorForParleyError(new ParleyError("PARLEY_ADDRESS_INVALID")).condition).toBe("jid-malformed");
  });

  it("maps received conditions back to neutral reasons", () => {
    expect(reasonForCondition("item-not-found")).toBe("recipient-unknown");
    expect(reasonForCondition("service-unavailable")).toBe("refused-by-policy");
    expect(reasonForCondition("remote-server-timeout")).toBe("timeout");
    expect(reasonForCondition("something-new")).toBe("internal");
  });

  it("reads a server asking to slow down as rate-limited, its own rate-limited error included", () => {
    expect(reasonForCondition("resource-constraint", "wait")).toBe("rate-limited");
    const own = errorForReason("rate-limited", "slow down");
    expect(reasonForCondition(own.condition, own.type)).toBe("rate-limited");
    expect(reasonForCondition("policy-violation", "modify")).toBe("refused-by-policy");
    expect(reasonForCondition("policy-violation")).toBe("refused-by-policy");
  });
});

describe("reconnect backoff", () => {
  it("grows exponentially with jitter and is capped", () => {
    expect(backoffMs(1, 500, 30_000, () => 0)).toBe(250);
    expect(backoffMs(1, 500, 30_000, () => 1)).toBe(500);
    expect(backoffMs(4, 500, 30_000, () => 1)).toBe(4000);
    expect(backoffMs(40, 500, 30_000, () => 1)).toBe(30_000);
    const samples = new Set(Array.from({ length: 50 }, () => backoffMs(3, 500, 30_000)));
    expect(samples.size).toBeGreaterThan(10);
    for (const s of samples) expect(s).toBeGreaterThanOrEqual(1000);
  });
});
