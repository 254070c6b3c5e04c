/** Admin functions (RFC 2779 App. C1–C3): show, list, change access rules with an audit line. */
import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { pino } from "pino";
import { formatPresenceShow, formatSubscriptionListing, presenceAdminRoutes } from "../../../src/presence/admin.js";
import { PresenceHarness, alice, bob, erin } from "./support/harness.js";
import { parsePidf } from "../../../src/model/pidf-parse.js";
import { ensureXmllint, validateXml } from "../../harness/xmllint/xmllint.js";

let h: PresenceHarness | undefined;
afterEach(async () => { await h?.close(); h = undefined; });

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({ write(chunk, _e, cb) { lines.push(JSON.parse(String(chunk)) as Record<string, unknown>); cb(); } });
  return { log: pino({ level: "info" }, stream), lines };
}

describe("presence admin", () => {
  it("shows the stored presence and rules, and lists watchers and watched, for the CLI and the API", async () => {
    h = new PresenceHarness();
    await h.subscribe(bob, alice);
    await h.act("request", erin, alice);
    await h.publish(alice, "open", { note: "at work", show: "away" });
    const show = await h.admin.showPresence("alice@chat.example.org");
    expect(show).toMatchObject({ presentity: alice, open: true, rules: { subscribe: "approval" } });
    expect(formatPresenceShow(show).join("\n")).toMatch(/OPEN[\s\S]*tuple phone: open\/away "at work"/);
    const list = await h.admin.listSubscriptions("xmpp/alice@chat.example.org");
    expect(list.watchers.map((s) => [s.watcher.address, s.state]).sort()).toEqual([[bob.address, "approved"], [erin.address, "pending"]]);
    expect(formatSubscriptionListing(list).join("\n")).toContain(`approved         matrix/${bob.address}`);
    expect(() => h!.admin.resolve("x@unlisted.example")).toThrow(/not listed/);
    expect(h.admin.resolve("matrix/x@unlisted.example")).toEqual({ network: "matrix", address: "x@unlisted.example" });
  });

  it("audits access-rule changes in the log, validates them, and serves them over the admin API routes", async () => {
    const { log, lines } = capture();
    h = new PresenceHarness({ log });
    const routes = presenceAdminRoutes(h.admin);
    const put = routes.find((r) => r.method === "PUT" && r.path === "/access/:address")!;
    const answer = await put.handle({ address: "alice@chat.example.org" }, { rules: { subscribe: "anyone", blockSubscribers: [bob.address] }, actor: "ops@example.org" }, new URLSearchParams());
    expect(answer.body).toMatchObject({ subscribe: "anyone", blockSubscribers: [bob.address] });
    const audit = lines.find((l) => l.audit === "access-rules");
    expect(audit).toMatchObject({ actor: "ops@example.org", presentity: `xmpp/${alice.address}`, before: null, after: { subscribe: "anyone" } });
    await expect(h.admin.setAccessRules("alice@chat.example.org", { subscribe: "everyone" }, "ops")).rejects.toMatchObject({ code: "PARLEY_INVALID_EVENT" });
    const get = routes.find((r) => r.method === "GET" && r.path === "/subscriptions/:address")!;
    expect((await get.handle({ address: "alice@chat.example.org" }, undefined, new URLSearchParams())).status).toBe(200);
    await h.admin.setAccessRules("alice@chat.example.org", {}, "ops");
    expect((await h.admin.showPresence("alice@chat.example.org")).rules.subscribe).toBe("approval");
  });

  it("T-3.1.6 serves the stored presence as PIDF to an admin API client that asks for application/pidf+xml", async () => {
    ensureXmllint();
    h = new PresenceHarness();
    await h.publish(alice, "open", { note: "at work", show: "away" });
    const get = presenceAdminRoutes(h.admin).find((r) => r.method === "GET" && r.path === "/presence/:address")!;
    const answer = await get.handle({ address: "alice@chat.example.org" }, undefined, new URLSearchParams(), "application/pidf+xml");
    expect(answer.contentType).toMatch(/^application\/pidf\+xml/);
    const doc = String(answer.body);
    expect(validateXml(doc).valid).toBe(true);
    expect(parsePidf(doc)).toEqual((await h.admin.showPresence("alice@chat.example.org")).presence);
    const json = await get.handle({ address: "alice@chat.example.org" }, undefined, new URLSearchParams(), "application/json");
    expect(json.contentType).toBeUndefined();
    await expect(get.handle({ address: "nobody@chat.example.org" }, undefined, new URLSearchParams(), "application/pidf+xml")).rejects.toMatchObject({ code: "PARLEY_NOT_FOUND" });
  });
});
