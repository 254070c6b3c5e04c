import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { endpoint } from "../../../src/model/address.js";
import { AccessRulesSchema, type AccessRules } from "../../../src/model/access.js";
import { PresenceSchema, type Presence } from "../../../src/model/presence.js";
import { CLOSED_VIEW_TIMESTAMP, autoApproves, basicView, project, viewFor } from "../../../src/policy/project.js";
import { decideRequest, maySend } from "../../../src/policy/decide.js";
import { mergeRules, parseOverride } from "../../../src/policy/access-policy.js";

const alice = endpoint("alice@chat.example.org", "xmpp");
const bob = endpoint("bob@matrix.example.org", "matrix");
const dave = endpoint("dave@chat.example.org", "xmpp");
const rules = (r: Partial<AccessRules> = {}): AccessRules => ({ ...AccessRulesSchema.parse({}), ...r });

const rich: Presence = PresenceSchema.parse({
  presentity: alice,
  tuples: [
    { id: "phone", basic: "open", show: "dnd", note: { en: "in a meeting" }, priority: 5, timestamp: "2026-11-24T00:00:01.000Z" },
    { id: "laptop", basic: "open", show: "away", timestamp: "2026-11-24T00:00:02.000Z" },
  ],
  person: { note: { en: "busy" }, displayName: "Alice" },
  acceptsMessages: true,
  version: 7,
  provenance: { source: "origin" },
  extensions: { "urn:example:mood": { payload: "happy" } },
});

describe("the one projection (src/policy/project.ts)", () => {
  it("T-2.3.1 a watcher the presentity did not allow sees nothing; an approved one sees the state", () => {
    expect(project(rich, bob, rules(), undefined)).toBeUndefined();
    expect(project(rich, bob, rules(), "pending")).toBeUndefined();
    expect(project(rich, bob, rules(), "denied")).toBeUndefined();
    expect(project(rich, bob, rules(), "approved")).toEqual(rich);
  });

  it("T-2.3.3 basic-only shows OPEN/CLOSED and nothing else: no show, note, person or extensions", () => {
    const view = project(rich, bob, rules({ visibility: { [bob.address]: "basic" } }), "approved")!;
    expect(view.tuples).toEqual([{ id: "basic", service: "im", basic: "open", timestamp: "2026-11-24T00:00:02.000Z" }]);
    expect(view.person).toBeUndefined();
    expect(view.extensions).toEqual({});
    expect(JSON.stringify(view)).not.toMatch(/meeting|busy|happy|dnd|away/);
  });

  it("T-3.3.3 a projection is a fresh object: changing one watcher's view leaves the stored state and other views alone", () => {
    const a = project(rich, bob, rules(), "approved")!;
    a.tuples[0]!.basic = "closed";
    expect(rich.tuples[0]!.basic).toBe("open");
    expect(project(rich, bob, rules(), "approved")!.tuples[0]!.basic).toBe("open");
  });

  it("T-5.1.15 T-5.2.3 politely blocked and invisible watchers get one constant CLOSED view", () => {
    const polite = project(rich, bob, rules({ politelyBlocked: [bob.address] }), "approved")!;
    const invisible = project(rich, bob, rules({ visibility: { [bob.address]: "closed" } }), "approved")!;
    const viaState = project(rich, bob, rules(), "politely-blocked")!;
    for (const v of [polite, invisible, viaState]) {
      expect(v.tuples).toEqual([{ id: "parley", service: "im", basic: "closed", timestamp: CLOSED_VIEW_TIMESTAMP }]);
      expect(v.version).toBe(0);
    }
    const closedRich = { ...rich, tuples: rich.tuples.map((t) => ({ ...t, basic: "closed" as const })), version: 8 };
    expect(project(closedRich, bob, rules({ politelyBlocked: [bob.address] }), "approved")).toEqual(polite);
  });

  it("T-5.1.13 a blocked watcher sees nothing, whatever its subscription says", () => {
    expect(project(rich, bob, rules({ blockSubscribers: [bob.address] }), "approved")).toBeUndefined();
  });

  it("T-5.3.2 without a subscription only watchers the rules approve outright may fetch", () => {
    expect(viewFor(rules({ subscribe: "anyone" }), bob, alice, undefined)).toBe("full");
    expect(viewFor(rules({ subscribe: "same-domain" }), dave, alice, undefined)).toBe("full");
    expect(viewFor(rules({ subscribe: "same-domain" }), bob, alice, undefined)).toBe("none");
    expect(viewFor(rules({ subscribe: "allow-list", allow: [bob.address] }), bob, alice, undefined)).toBe("full");
    expect(viewFor(rules({ subscribe: "approval" }), bob, alice, undefined)).toBe("none");
    expect(viewFor(rules({ subscribe: "anyone" }), bob, alice, "cancelled")).toBe("none");
  });

  it("is pure: the same inputs give the same output (property)", () => {
    const vis = fc.constantFrom("full" as const, "basic" as const, "closed" as const);
    const state = fc.constantFrom(undefined, "pending" as const, "approved" as const, "denied" as const, "politely-blocked" as const, "cancelled" as const);
    fc.assert(fc.property(vis, state, fc.boolean(), fc.boolean(), (v, s, blocked, polite) => {
      const r = rules({ defaultVisibility: v, blockSubscribers: blocked ? [bob.address] : [], politelyBlocked: polite ? [bob.address] : [] });
      const a = project(rich, bob, r, s);
      expect(project(rich, bob, r, s)).toEqual(a);
      if (blocked) expect(a).toBeUndefined();
      if (a !== undefined && (polite || s === "politely-blocked" || v === "closed")) expect(a.tuples[0]!.basic).toBe("closed");
    }));
  });

  it("basicView of all-closed tuples is CLOSED with the newest timestamp", () => {
    const closed = { ...rich, tuples: rich.tuples.map((t) => ({ ...t, basic: "closed" as const })) };
    expect(basicView(closed).tuples[0]).toMatchObject({ basic: "closed", timestamp: "2026-11-24T00:00:02.000Z" });
  });
});

describe("subscription decisions (src/policy/decide.ts)", () => {
  it("T-5.1.13 a blocked watcher is ignored before anything else", () => {
    expect(decideRequest(rules({ subscribe: "anyone", blockSubscribers: [bob.address] }), bob, alice, true)).toBe("ignore");
  });
  it("T-5.1.14 T-5.1.3 unproved watchers are refused unless the presentity accepts them, and then it decides", () => {
    expect(decideRequest(rules({ subscribe: "anyone" }), bob, alice, false)).toBe("refuse-unauthenticated");
    expect(decideRequest(rules({ subscribe: "anyone", allowUnauthenticatedSubscribers: true }), bob, alice, false)).toBe("pending");
  });
  it("T-2.3.2 who may subscribe: anyone, same domain, allow list, approval", () => {
    expect(decideRequest(rules({ subscribe: "anyone" }), bob, alice, true)).toBe("approve");
    expect(decideRequest(rules({ subscribe: "same-domain" }), dave, alice, true)).toBe("approve");
    expect(decideRequest(rules({ subscribe: "same-domain" }), bob, alice, true)).toBe("pending");
    expect(decideRequest(rules({ subscribe: "allow-list", allow: [bob.address] }), bob, alice, true)).toBe("approve");
    expect(decideRequest(rules({ subscribe: "allow-list" }), bob, alice, true)).toBe("pending");
    expect(decideRequest(rules({ subscribe: "approval" }), bob, alice, true)).toBe("pending");
    expect(autoApproves(rules({ subscribe: "approval", allow: [bob.address] }), bob, alice)).toBe(true);
  });
  it("T-5.1.15 a politely blocked watcher is recorded as such, not refused", () => {
    expect(decideRequest(rules({ subscribe: "anyone", politelyBlocked: [bob.address] }), bob, alice, true)).toBe("polite");
  });
  it("T-2.3.5 T-5.4.10 the inbox block list is keyed by sender address", () => {
    expect(maySend(rules({ blockSenders: [bob.address] }), bob)).toBe(false);
    expect(maySend(rules({ blockSenders: [bob.address] }), dave)).toBe(true);
  });
});

describe("access rule overrides (src/policy/access-policy.ts)", () => {
  it("fields given replace the domain default; visibility merges per watcher; bad JSON is ignored", () => {
    const defaults = rules({ subscribe: "same-domain", visibility: { "x@y.org": "basic" } });
    const merged = mergeRules(defaults, { subscribe: "anyone", visibility: { [bob.address]: "closed" } });
    expect(merged.subscribe).toBe("anyone");
    expect(merged.visibility).toEqual({ "x@y.org": "basic", [bob.address]: "closed" });
    expect(merged.blockSenders).toEqual([]);
    expect(parseOverride('{"subscribe":"nonsense"}')).toBeUndefined();
    expect(parseOverride(null)).toBeUndefined();
  });
});
