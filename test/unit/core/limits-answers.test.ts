/**
 * Issue 14: a message over the shared rate limits (PARLEY_RATE_LIMITED, with `retryAfterMs`) is
 * answered in each network's own "slow down": an XMPP `wait` policy-violation naming the wait,
 * a Matrix notice with M_LIMIT_EXCEEDED and retry_after_ms, SMTP 451 4.7.1.
 */
import { describe, expect, it } from "vitest";
import { ParleyError } from "../../../src/errors/parley-error.js";
import { errorForParleyError } from "../../../adapters/xmpp/errors.js";
import { refusalFields } from "../../../adapters/matrix/errors.js";
import { replyForParleyCode } from "../../../adapters/email/errors.js";

const limited = new ParleyError("PARLEY_RATE_LIMITED", "too many messages from alice@example.org; retry in 15 s", { retryAfterMs: 14_200, scope: "sender" });

describe("the native answers to a rate-limited sender", () => {
  it("XMPP: <error type='wait'><policy-violation/> with the wait in its text", () => {
    expect(errorForParleyError(limited)).toEqual({ type: "wait", condition: "policy-violation", text: "too many messages from alice@example.org; retry in 15 s" });
  });
  it("Matrix: the refusal notice carries errcode M_LIMIT_EXCEEDED and retry_after_ms", () => {
    expect(refusalFields(limited)).toEqual({ errcode: "M_LIMIT_EXCEEDED", retry_after_ms: 14_200 });
    expect(refusalFields(new ParleyError("PARLEY_TOO_LARGE"))).toEqual({});
  });
  it("SMTP: 451 4.7.1", () => {
    expect(replyForParleyCode(limited.code)).toMatchObject({ code: 451, status: "4.7.1" });
  });
});
