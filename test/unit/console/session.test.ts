/** Console sessions (issue 17): signed cookies, expiry, CSRF tokens bound to the session. */
import { describe, expect, it } from "vitest";
import { ConsoleSessions, cookieValue, LoginThrottle } from "../../../src/console/session.js";
import { esc, html } from "../../../src/console/html.js";

describe("console sessions", () => {
  it("accepts its own cookie until it expires, and nothing tampered or signed with another token", () => {
    let now = 1_000_000;
    const s = new ConsoleSessions("token-one-token-one", 60_000, () => now);
    const { value } = s.issue();
    expect(s.verify(value)).toBeDefined();
    const [v, exp, nonce, mac] = value.split(".");
    expect(s.verify(`${v}.${Number(exp) + 1}.${nonce}.${mac}`)).toBeUndefined();
    expect(s.verify(`${v}.${exp}.${nonce}x.${mac}`)).toBeUndefined();
    expect(new ConsoleSessions("token-two-token-two", 60_000, () => now).verify(value)).toBeUndefined();
    now += 60_001;
    expect(s.verify(value)).toBeUndefined();
  });

  it("binds the CSRF token to the session", () => {
    const s = new ConsoleSessions("token-one-token-one");
    const a = s.issue().session;
    const b = s.issue().session;
    expect(s.csrfMatches(a, s.csrfFor(a))).toBe(true);
    expect(s.csrfMatches(a, s.csrfFor(b))).toBe(false);
    expect(s.csrfMatches(a, "")).toBe(false);
    expect(s.csrfMatches(a, undefined)).toBe(false);
  });

  it("checks the token in constant time and throttles guessing", () => {
    const s = new ConsoleSessions("token-one-token-one");
    expect(s.tokenMatches("token-one-token-one")).toBe(true);
    expect(s.tokenMatches("token-one-token-on")).toBe(false);
    expect(s.tokenMatches("")).toBe(false);
    let now = 0;
    const t = new LoginThrottle(2, 1000, () => now);
    expect(t.blocked()).toBe(false);
    t.failed(); t.failed();
    expect(t.blocked()).toBe(true);
    now = 1000;
    expect(t.blocked()).toBe(false);
  });

  it("reads its cookie among others; escapes interpolations but not literals", () => {
    expect(cookieValue("a=1; parley_console=v1.2.3.4; b=2")).toBe("v1.2.3.4");
    expect(cookieValue("a=1")).toBeUndefined();
    expect(html`<b>${"<i>&\"'"}</b>`.text).toBe("<b>&lt;i&gt;&amp;&quot;&#39;</b>");
    expect(esc(undefined)).toBe("");
  });
});
