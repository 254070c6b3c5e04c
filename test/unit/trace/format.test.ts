/** How `parley trace` prints a trace (issue 17): UTC times to a tenth of a millisecond, the time since the previous hop, an attempt's duration. */
import { describe, expect, it } from "vitest";
import { formatLookup, formatTrace } from "../../../src/trace/index.js";

const t0 = Date.UTC(2026, 11, 6, 17, 22, 2) + 965.3;

describe("formatTrace", () => {
  it("prints each hop with its time, the time since the previous hop and its details; an attempt with took=", () => {
    const lines = formatTrace({
      id: "01a24c60-824c-77a7-9f3a-be34046bea5a",
      truncated: false,
      hops: [
        { hop: "accepted", at: t0, network: "email", from: "carol@example.org", to: "alice@xmpp.test" },
        { hop: "attempt", at: t0 + 19.2, durMs: 45.6, network: "xmpp", attempt: 1, outcome: "failed", failureClass: "transient", reason: "unavailable", detail: "link down" },
        { hop: "relayed", at: t0 + 1034.75, network: "xmpp" },
      ],
    });
    expect(lines).toEqual([
      "message 01a24c60-824c-77a7-9f3a-be34046bea5a",
      "  2026-12-06 17:22:02.9653  +0 µs      accepted   network=email from=carol@example.org to=alice@xmpp.test",
      "  2026-12-06 17:22:02.9845  +19.2 ms   attempt    network=xmpp attempt=1 outcome=failed class=transient reason=unavailable took=45.6 ms \"link down\"",
      "  2026-12-06 17:22:04.0001  +1.02 s    relayed    network=xmpp",
      "  total 1.03 s",
    ]);
  });

  it("says plainly when nothing is found", () => {
    expect(formatLookup({ matched: "none", query: "x@y", traces: [] })).toEqual([expect.stringContaining("no trace for \"x@y\"")]);
  });
});
