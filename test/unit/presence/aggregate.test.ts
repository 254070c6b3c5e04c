import { describe, expect, it } from "vitest";
import { endpoint } from "../../../src/model/address.js";
import { PresenceSchema, type Presence, type Tuple } from "../../../src/model/presence.js";
import { aggregate, mergeTuples } from "../../../src/presence/aggregate.js";
import { fanoutJob, notifyJob, subscriptionJob } from "../../../src/presence/jobs.js";

const alice = endpoint("alice@chat.example.org", "xmpp");
const bob = endpoint("bob@matrix.example.org", "matrix");
const t = (id: string, basic: "open" | "closed", s: number, extra: Partial<Tuple> = {}): Tuple =>
  ({ id, service: "im", basic, timestamp: new Date(Date.UTC(2026, 10, 24, 0, 0, s)).toISOString(), ...extra });
const at = "2026-11-24T00:01:00.000Z";

describe("per-resource aggregation (src/presence/aggregate.ts)", () => {
  it("an update replaces the tuple with the same id and keeps the others", () => {
    const merged = mergeTuples([t("phone", "open", 1), t("laptop", "open", 2)], [t("phone", "open", 3, { show: "away" })], at);
    expect(merged.map((x) => [x.id, x.show])).toEqual([["phone", "away"], ["laptop", undefined]]);
  });
  it("closed tuples are dropped while another is open", () => {
    expect(mergeTuples([t("phone", "open", 1), t("laptop", "open", 2)], [t("phone", "closed", 3)], at).map((x) => x.id)).toEqual(["laptop"]);
  });
  it("T-3.2.1 when every tuple is closed the newest closed one is kept, with its time (last seen)", () => {
    const merged = mergeTuples([t("phone", "open", 1)], [t("phone", "closed", 5)], at);
    expect(merged).toEqual([t("phone", "closed", 5)]);
  });
  it("T-4.4.3 OPEN/CLOSED is kept per communication means: IM closed while email is open", () => {
    const merged = mergeTuples([t("phone", "open", 1), t("mail", "open", 1, { service: "email" })], [t("phone", "closed", 2)], at);
    expect(merged.map((x) => [x.service, x.id, x.basic])).toEqual([["im", "phone", "closed"], ["email", "mail", "open"]]);
  });
  it("T-4.4.1 the minimal IM presence (basic, optional show and note, timestamp) is a valid canonical presence", () => {
    const minimal = PresenceSchema.parse({ presentity: alice, tuples: [{ id: "r", basic: "open", timestamp: at }], version: 1, provenance: { source: "origin" } });
    expect(minimal.tuples[0]).toEqual({ id: "r", service: "im", basic: "open", timestamp: at });
    expect(PresenceSchema.safeParse({ ...minimal, tuples: [{ id: "r", show: "away", note: { en: "x" }, timestamp: at }] }).success).toBe(false);
    expect(PresenceSchema.safeParse({ ...minimal, tuples: [{ id: "r", basic: "open", show: "away", note: { en: "x" }, timestamp: at }] }).success).toBe(true);
  });
  it("an update without tuples closes everything at the time of receipt", () => {
    expect(mergeTuples([t("phone", "open", 1), t("laptop", "open", 2)], [], at)).toEqual([{ ...t("laptop", "closed", 0), timestamp: at, show: undefined }]);
  });
  it("the stored version is the store's sequence; person data and extensions survive updates without them", () => {
    const prev: Presence = { presentity: alice, tuples: [t("a", "open", 1)], person: { displayName: "A" }, version: 4, provenance: { source: "origin" }, extensions: { "urn:x": { payload: 1 } } };
    const next = aggregate(prev, { presentity: alice, tuples: [t("a", "open", 2)], version: 99, provenance: { source: "origin" }, extensions: {} }, 5, at);
    expect(next.version).toBe(5);
    expect(next.person).toEqual({ displayName: "A" });
    expect(next.extensions).toEqual({ "urn:x": { payload: 1 } });
  });
});

describe("job specs (src/presence/jobs.ts)", () => {
  it("one coalescing key per (watcher, presentity); no ':' in keys; presence jobs go to the watcher's network", () => {
    const a = notifyJob(bob, alice);
    expect(a).toMatchObject({ kind: "presence", network: "matrix", coalesce: true });
    expect(notifyJob(bob, alice).key).toBe(a.key);
    expect(notifyJob(alice, bob).key).not.toBe(a.key);
    expect(a.key).not.toContain(":");
    expect(fanoutJob(alice)).toMatchObject({ kind: "presence", network: "xmpp", coalesce: true });
    expect(fanoutJob(alice, true).key).not.toBe(fanoutJob(alice).key);
  });
  it("subscription notices are ordered per pair and never coalesce", () => {
    const sub = { watcher: bob, presentity: alice, state: "pending" as const, at };
    const x = subscriptionJob(alice, "request", sub);
    const y = subscriptionJob(alice, "request", sub);
    expect(x.conversation).toBe(y.conversation);
    expect(x.key).not.toBe(y.key);
    expect(x.coalesce).toBeUndefined();
  });
});
