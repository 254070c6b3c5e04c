/** Pure Matrix mappings: content, presence, failure classes (RFC 2779 T-4.4.2, T-4.1.7, T-5.4.1). */
import { describe, expect, it } from "vitest";
import { ConnectionError, MatrixError } from "matrix-js-sdk";
import { htmlToText, kindFor, msgtypeFor, sanitizeMatrixHtml, stripReplyFallback } from "../../../adapters/matrix/content.js";
import { matrixPresenceOf, presenceFromMatrix } from "../../../adapters/matrix/presence.js";
import { classify, reasonText } from "../../../adapters/matrix/errors.js";
import { matrixAdapter } from "../../../adapters/matrix/index.js";
import { endpoint } from "../../../src/model/address.js";
import { PresenceSchema } from "../../../src/model/presence.js";
import { FailureReasonSchema } from "../../../src/model/delivery-status.js";

const bob = endpoint("bob@matrix.example.org", "matrix");
const presence = (tuples: Array<{ basic: "open" | "closed"; show?: "chat" | "away" | "xa" | "dnd"; note?: Record<string, string> }>) =>
  PresenceSchema.parse({ presentity: bob, version: 1, provenance: { source: "origin" }, tuples: tuples.map((t, i) => ({ id: `r${i}`, timestamp: new Date().toISOString(), ...t })) });

describe("Matrix content", () => {
  it("T-4.1.7 sanitises HTML to the spec's tag set and keeps a plain body", () => {
    expect(sanitizeMatrixHtml('<b onclick="x()">hi</b><script>alert(1)</script><a href="javascript:x">l</a><iframe src=x></iframe>')).toBe("<b>hi</b><a>l</a>");
    expect(sanitizeMatrixHtml("<mx-reply><blockquote>old</blockquote></mx-reply>new")).toBe("new");
    expect(sanitizeMatrixHtml('<code class="language-ts">x</code><span data-mx-spoiler>s</span>')).toBe('<code class="language-ts">x</code><span data-mx-spoiler>s</span>');
    expect(htmlToText("<p>one</p><p>two<br>three</p>")).toBe("one\ntwo\nthree");
  });

  it("T-4.4.2 maps msgtypes and kinds both ways", () => {
    for (const kind of ["chat", "notice", "emote"] as const) expect(kindFor(msgtypeFor(kind))).toBe(kind === "chat" ? "chat" : kind);
    expect(msgtypeFor("normal")).toBe("m.text");
    expect(kindFor("m.image")).toBeUndefined();
  });

  it("strips a rich reply's quoted fallback only", () => {
    expect(stripReplyFallback("> <@a:b> old\n> more\n\nnew text")).toBe("new text");
    expect(stripReplyFallback("plain > not a quote")).toBe("plain > not a quote");
  });
});

describe("Matrix presence mapping", () => {
  it("T-4.4.2 Matrix → canonical: online/unavailable/offline, status_msg, last_active_ago", () => {
    const now = Date.parse("2026-01-01T00:00:10Z");
    const online = presenceFromMatrix(bob, { presence: "online", status_msg: "hi", currently_active: true }, now)!;
    expect(online.presence.tuples[0]).toMatchObject({ basic: "open", note: { und: "hi" } });
    expect(online.presence.tuples[0]?.show).toBeUndefined();
    const away = presenceFromMatrix(bob, { presence: "unavailable", last_active_ago: 10_000 }, now)!;
    expect(away.presence.tuples[0]).toMatchObject({ basic: "open", show: "away" });
    expect(away.presence.person?.userInput).toEqual({ state: "idle", lastInput: "2026-01-01T00:00:00.000Z" });
    expect(presenceFromMatrix(bob, { presence: "offline" }, now)!.presence.tuples[0]?.basic).toBe("closed");
    expect(presenceFromMatrix(bob, { presence: "weird" }, now)).toBeUndefined();
  });

  it("T-4.4.2 canonical → Matrix: the most available tuple; xa/dnd flatten to unavailable", () => {
    expect(matrixPresenceOf(undefined)).toEqual({ presence: "offline" });
    expect(matrixPresenceOf(presence([{ basic: "closed" }]))).toEqual({ presence: "offline" });
    expect(matrixPresenceOf(presence([{ basic: "open", show: "dnd", note: { en: "busy" } }]))).toEqual({ presence: "unavailable", status_msg: "busy" });
    expect(matrixPresenceOf(presence([{ basic: "open", show: "xa" }, { basic: "open", show: "chat", note: { de: "da" } }]))).toEqual({ presence: "online", status_msg: "da" });
  });
});

describe("Matrix failure classes", () => {
  const err = (status: number, errcode: string, extra: Record<string, unknown> = {}) => new MatrixError({ errcode, error: "x", ...extra }, status);

  it("T-5.4.1 429 is rate-limited with the homeserver's retry_after_ms", () => {
    const e = classify(err(429, "M_LIMIT_EXCEEDED", { retry_after_ms: 1234 }), "sending");
    expect(e).toMatchObject({ failureClass: "rate-limited", reason: "rate-limited", retryAfterMs: 1234 });
  });

  it("T-5.4.1 outages and 5xx are transient; refusals are permanent with a neutral reason", () => {
    expect(classify(new ConnectionError("fetch failed"), "x").failureClass).toBe("transient");
    expect(classify(new TypeError("fetch failed"), "x").failureClass).toBe("transient");
    expect(classify(err(502, "M_UNKNOWN"), "x").failureClass).toBe("transient");
    expect(classify(err(401, "M_UNKNOWN_TOKEN"), "x").failureClass).toBe("transient");
    expect(classify(err(403, "M_FORBIDDEN"), "x")).toMatchObject({ failureClass: "permanent", reason: "refused-by-policy", nativeDetail: "M_FORBIDDEN 403" });
    expect(classify(err(413, "M_TOO_LARGE"), "x")).toMatchObject({ failureClass: "permanent", reason: "too-large" });
    expect(classify(err(404, "M_NOT_FOUND"), "x")).toMatchObject({ failureClass: "permanent", reason: "recipient-unknown" });
  });

  it("has words for every neutral reason", () => {
    for (const r of FailureReasonSchema.options) expect(reasonText(r)).toMatch(/\w/);
  });

  it("its config schema names missing keys", () => {
    const r = matrixAdapter.configSchema.safeParse({ homeserverUrl: "http://127.0.0.1:8008" });
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.path.join("."))).toEqual(expect.arrayContaining(["asToken", "hsToken"]));
  });
});
