/**
 * A puppet's Matrix name from its person's own profile (adapters/matrix/puppet-profile.ts): when it
 * is read again (stale, or a new profile hint), what it shows, and that an unknown profile (the home
 * network not answering in this process) changes nothing.
 */
import { describe, expect, it } from "vitest";
import { PuppetProfiles, puppetDisplayName, type ProfileDeps } from "../../../adapters/matrix/puppet-profile.js";
import { PROFILE_HINT, type Profile } from "../../../src/adapter/profiles.js";
import { endpoint } from "../../../src/model/address.js";
import { silentLogger } from "../../../src/log/logger.js";
import { MemoryStateStore } from "../../support/fake-context.js";

const alice = endpoint("alice@chat.example.org", "xmpp");
const puppet = "@_parley_xmpp_alice=40chat.example.org:matrix.example.org";

function rig(refreshSeconds = 3600) {
  const calls: Array<{ path: string; body: unknown }> = [];
  let profile: Profile | undefined = { displayName: "Alice", contacts: [] };
  let reads = 0;
  const state = new MemoryStateStore();
  const d = {
    ctx: { state, profiles: { profileOf: async () => { reads++; return profile; } } },
    config: { profileRefreshSeconds: refreshSeconds },
    hs: { request: async (_u: string, _m: string, path: string, body: unknown) => { calls.push({ path, body }); return {}; } },
    log: silentLogger(),
  } as unknown as ProfileDeps;
  return { p: new PuppetProfiles(d), calls, state, reads: () => reads, set: (x: Profile | undefined) => { profile = x; } };
}

describe("puppet profiles", () => {
  it("T-3.1.3 the display name is the person's name with their address; the address alone without a name; control characters go", () => {
    expect(puppetDisplayName(alice, { displayName: "Alice\u202e Liddell", contacts: [] })).toBe("Alice Liddell (alice@chat.example.org)");
    expect(puppetDisplayName(alice, { contacts: [] })).toBe("alice@chat.example.org");
    expect(puppetDisplayName(alice, undefined)).toBe("alice@chat.example.org");
  });

  it("T-3.1.3 read once, then again only when stale or when the profile hint changes", async () => {
    const r = rig();
    await r.p.refresh(puppet, alice, undefined);
    expect(r.calls.map((c) => c.body)).toEqual([{ displayname: "Alice (alice@chat.example.org)" }]);
    await r.p.refresh(puppet, alice, undefined);
    expect(r.reads()).toBe(1);
    r.set({ displayName: "Alice L.", contacts: [] });
    await r.p.refresh(puppet, alice, "aaa");
    expect(r.reads()).toBe(2);
    expect(r.calls.at(-1)!.body).toEqual({ displayname: "Alice L. (alice@chat.example.org)" });
    await r.p.refresh(puppet, alice, "aaa");
    expect(r.reads()).toBe(2);
    const stale = rig(1);
    await stale.p.refresh(puppet, alice, undefined);
    const applied = JSON.parse((await stale.state.get(`profile:${puppet}`))!) as { at: number };
    await stale.state.set(`profile:${puppet}`, JSON.stringify({ ...applied, at: applied.at - 2000 }));
    await stale.p.refresh(puppet, alice, undefined);
    expect(stale.reads()).toBe(2);
  });

  it("an unknown profile leaves what the puppet shows; follow() coalesces and takes the hint from presence extensions", async () => {
    const r = rig();
    await r.p.refresh(puppet, alice, "h1");
    r.set(undefined);
    await r.p.refresh(puppet, alice, "h2");
    expect(r.calls).toHaveLength(1);
    r.set({ displayName: "Alice 3", contacts: [] });
    r.p.follow(puppet, alice, { [PROFILE_HINT]: { payload: { avatar: "h3" } } });
    r.p.follow(puppet, alice, { [PROFILE_HINT]: { payload: { avatar: "h3" } } });
    for (let i = 0; i < 50 && r.calls.length < 2; i++) await new Promise((ok) => setImmediate(ok));
    expect(r.calls.at(-1)!.body).toEqual({ displayname: "Alice 3 (alice@chat.example.org)" });
    expect(r.calls).toHaveLength(2);
  });
});
