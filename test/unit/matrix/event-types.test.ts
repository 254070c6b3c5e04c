/**
 * Matrix events besides m.room.message as bridgeable content (adapters/matrix/features/event-types.ts):
 * stickers as images, polls (stable and MSC3381 unstable, as Element sends them) as numbered text,
 * m.location as a geo: URI with its description in HTML.
 */
import { describe, expect, it } from "vitest";
import { PollStartEvent } from "matrix-js-sdk/lib/extensible_events_v1/PollStartEvent.js";
import { M_POLL_KIND_DISCLOSED } from "matrix-js-sdk/lib/@types/polls.js";
import { extensibleText, isGeoUri, isPollStart, locationParts, messageContentOf, pollText } from "../../../adapters/matrix/features/event-types.js";
import type { MatrixEvent } from "../../../adapters/matrix/types.js";
import { callRefusal } from "../../../adapters/matrix/features/not-bridged.js";

const event = (type: string, content: Record<string, unknown>): MatrixEvent => ({ event_id: "$e", room_id: "!r:hs", sender: "@bob:hs", type, content });

describe("polls", () => {
  it("an Element poll (unstable MSC3381, built by matrix-js-sdk) becomes its question and numbered answers", () => {
    const { type, content } = PollStartEvent.from("Lunch where?", ["Pizza", "Sushi", "Salad"], M_POLL_KIND_DISCLOSED).serialize();
    expect(type).toBe("org.matrix.msc3381.poll.start");
    expect(isPollStart(type)).toBe(true);
    expect(messageContentOf(event(type, content as Record<string, unknown>))).toEqual({ msgtype: "m.text", body: "Poll: Lunch where?\n1. Pizza\n2. Sushi\n3. Salad" });
  });

  it("a stable m.poll.start (m.text as arrays of representations) is read the same way", () => {
    const content = {
      "m.poll": {
        kind: "m.disclosed", max_selections: 1,
        question: { "m.text": [{ mimetype: "text/html", body: "<b>Q</b>" }, { body: "Which day?" }] },
        answers: [{ "m.id": "a", "m.text": [{ body: "Monday" }] }, { "m.id": "b", "m.text": [{ body: "Friday" }] }],
      },
      "m.text": [{ body: "Which day?\n1. Monday\n2. Friday" }],
    };
    expect(pollText(content)).toBe("Poll: Which day?\n1. Monday\n2. Friday");
    expect(isPollStart("m.poll.start")).toBe(true);
  });

  it("an unreadable poll falls back to its text; a poll with neither has no body (the sender is told it is malformed)", () => {
    expect(pollText({ "m.poll": { question: {}, answers: "x" }, "org.matrix.msc1767.text": "Q?\n1. a" })).toBe("Poll: Q?\n1. a");
    expect(pollText({ body: "old client fallback" })).toBe("Poll: old client fallback");
    expect(messageContentOf(event("m.poll.start", { "m.poll": {} }))).toEqual({ msgtype: "m.text" });
  });

  it("at most 20 answers are listed (MSC3381's cap)", () => {
    const answers = Array.from({ length: 30 }, (_, i) => ({ id: String(i), "org.matrix.msc1767.text": `a${i}` }));
    const text = pollText({ "org.matrix.msc3381.poll.start": { question: { "org.matrix.msc1767.text": "Q" }, answers } })!;
    expect(text.split("\n")).toHaveLength(21);
    expect(text.endsWith("20. a19")).toBe(true);
  });

  it("poll responses and ends are not messages", () => {
    for (const type of ["m.poll.response", "org.matrix.msc3381.poll.response", "m.poll.end", "org.matrix.msc3381.poll.end"]) {
      expect(isPollStart(type)).toBe(false);
      expect(messageContentOf(event(type, { body: "The poll has ended" }))).toBeUndefined();
    }
  });

  it("extensible text prefers plain text over other representations", () => {
    expect(extensibleText([{ mimetype: "text/html", body: "<i>x</i>" }, { mimetype: "text/plain", body: "x" }])).toBe("x");
    expect(extensibleText({ "org.matrix.msc1767.text": "y" })).toBe("y");
    expect(extensibleText(42)).toBeUndefined();
  });
});

describe("stickers", () => {
  it("an m.sticker is an m.image with the same url, info and description", () => {
    const content = { body: "Happy cat", url: "mxc://hs/abc", info: { mimetype: "image/png", w: 256, h: 256, size: 1234 } };
    expect(messageContentOf(event("m.sticker", content))).toEqual({ ...content, msgtype: "m.image" });
  });

  it("m.room.message content is passed as it is; other events are not messages", () => {
    const content = { msgtype: "m.text", body: "hi" };
    expect(messageContentOf(event("m.room.message", content))).toBe(content);
    expect(messageContentOf(event("m.call.invite", { call_id: "c" }))).toBeUndefined();
  });
});

describe("locations", () => {
  it("geo: URIs per RFC 5870 (with altitude and parameters) are recognised; anything else is not", () => {
    for (const ok of ["geo:51.5008,0.1247", "geo:-33.8688,151.2093;u=35", "geo:48.2,16.37,180", "geo:0,0;crs=wgs84;u=10"]) expect(isGeoUri(ok), ok).toBe(true);
    for (const bad of ["geo:", "geo:abc,def", "see geo:1,2", "geo:1,2 extra", "https://maps.example/geo:1,2", `geo:1,2;${"u".repeat(300)}`]) expect(isGeoUri(bad), bad).toBe(false);
  });

  it("an m.location is text that is exactly its geo_uri, the description in HTML with the link", () => {
    const parts = locationParts({ msgtype: "m.location", body: "Big Ben <clock>", geo_uri: "geo:51.5008,0.1247;u=35" });
    expect(parts).toEqual([
      { role: "text", body: "geo:51.5008,0.1247;u=35" },
      { role: "html", body: "<p>Big Ben &lt;clock&gt;</p><p><a href=\"geo:51.5008,0.1247;u=35\">geo:51.5008,0.1247;u=35</a></p>" },
    ]);
  });

  it("MSC3488's description is preferred; a description that is the URI itself adds nothing", () => {
    const parts = locationParts({ body: "Location geo:1,2 at 2026-12-07", geo_uri: "geo:1,2", "org.matrix.msc3488.location": { uri: "geo:1,2", description: "Home" } });
    expect(parts?.[1]).toEqual({ role: "html", body: "<p>Home</p><p><a href=\"geo:1,2\">geo:1,2</a></p>" });
    expect(locationParts({ body: "geo:1,2", geo_uri: "geo:1,2" })).toEqual([{ role: "text", body: "geo:1,2" }]);
  });

  it("a location without a valid geo_uri has no parts (the sender is told)", () => {
    expect(locationParts({ body: "somewhere" })).toBeUndefined();
    expect(locationParts({ body: "x", geo_uri: "javascript:alert(1)" })).toBeUndefined();
  });
});

describe("calls", () => {
  it("a version 1 invite is refused with m.call.reject, a version 0 one with m.call.hangup (the caller's client stops ringing)", () => {
    expect(callRefusal({ call_id: "c1", version: "1", party_id: "caller" }, "c1")).toEqual({ type: "m.call.reject", content: { call_id: "c1", party_id: "parley", version: "1" } });
    expect(callRefusal({ call_id: "c0", version: 0 }, "c0")).toEqual({ type: "m.call.hangup", content: { call_id: "c0", version: 0 } });
    expect(callRefusal({ call_id: "c" }, "c").type).toBe("m.call.hangup");
  });
});
