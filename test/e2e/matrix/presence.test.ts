/**
 * Presence both ways against the tier's Synapse (presence.sync_online_timeout shortened to
 * PRESENCE_TIMEOUT_MS so the puppet timeout is observable in seconds).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { endpoint, endpointKey, type Endpoint } from "../../../src/model/address.js";
import { PresenceSchema, type Presence } from "../../../src/model/presence.js";
import type { PresenceEvent } from "../../../src/model/events.js";
import { newCanonicalId } from "../../../src/model/ids.js";
import { MessageSchema } from "../../../src/model/message.js";
import { toNative } from "../../../adapters/matrix/address.js";
import { SetPresence } from "matrix-js-sdk";
import { startUser, uniqueName, type TestMatrixUser } from "../../harness/synapse/clients.js";
import { startRig, type Rig } from "./rig.js";

let rig: Rig;
let alice: TestMatrixUser;
let eve: TestMatrixUser;
const ep = (u: TestMatrixUser, rigServer: string) => endpoint(`${u.userId.slice(1, u.userId.indexOf(":"))}@${rigServer}`, "matrix");

function presence(who: Endpoint, basic: "open" | "closed", extra: { show?: "away" | "dnd" | "chat"; note?: string } = {}): Presence {
  return PresenceSchema.parse({
    presentity: who, version: Date.now(), provenance: { source: "origin" },
    tuples: [{ id: "phone", basic, ...(extra.show ? { show: extra.show } : {}), ...(extra.note ? { note: { en: extra.note } } : {}), timestamp: new Date().toISOString() }],
  });
}

async function puppetStatus(puppet: string): Promise<{ presence: string; status_msg?: string }> {
  // Asked as the puppet itself (as_token masquerading): a user may always read its own presence.
  const q = `?user_id=${encodeURIComponent(puppet)}`;
  const r = await fetch(`${rig.coords.baseUrl}/_matrix/client/v3/presence/${encodeURIComponent(puppet)}/status${q}`, { headers: { authorization: `Bearer ${rig.slot.asToken}` } });
  return (await r.json()) as { presence: string; status_msg?: string };
}

beforeAll(async () => {
  rig = await startRig(2, { presenceRefreshSeconds: 2 });
  alice = await startUser(rig.coords.baseUrl, rig.coords.registrationSharedSecret, uniqueName("pia"));
  eve = await startUser(rig.coords.baseUrl, rig.coords.registrationSharedSecret, uniqueName("eve"));
});

afterAll(async () => {
  alice?.stop();
  eve?.stop();
  await rig?.stop();
});

describe("Matrix adapter with Synapse: presence", () => {
  it("T-3.1.1 T-4.4.2 a foreign user's presence reaches the Matrix user's /sync, mapped to online/unavailable/offline", async () => {
    const bob = endpoint("bob@chat.example.org", "xmpp");
    const puppet = toNative(bob, rig.mappings);
    const watcher = ep(alice, rig.coords.serverName);
    await rig.adapter.deliverPresence({ watcher, presence: presence(bob, "open", { note: "writing code" }) });
    expect((await alice.waitForPresence(puppet, "online")).statusMsg).toBe("writing code");
    await rig.adapter.deliverPresence({ watcher, presence: presence(bob, "open", { show: "dnd", note: "busy" }) });
    expect((await alice.waitForPresence(puppet, "unavailable")).statusMsg).toBe("busy");
    await rig.adapter.deliverPresence({ watcher, presence: presence(bob, "closed") });
    await alice.waitForPresence(puppet, "offline");
  });

  it("T-3.2.4 Synapse times out a puppet's presence after its sync timeout; the adapter's refresh keeps it online", async () => {
    const kept = endpoint("kept@chat.example.org", "xmpp");
    const keptPuppet = toNative(kept, rig.mappings);
    const watcher = ep(alice, rig.coords.serverName);
    await rig.adapter.deliverPresence({ watcher, presence: presence(kept, "open") });
    await alice.waitForPresence(keptPuppet, "online");
    // A puppet set online once and never refreshed (straight through the AS API, not the adapter).
    const lone = endpoint("lone@chat.example.org", "xmpp");
    const lonePuppet = toNative(lone, rig.mappings);
    await rig.adapter.deliverMessage(MessageSchema.parse({ id: newCanonicalId(), from: lone, to: watcher, authenticatedBy: { method: "network" }, sentAt: new Date().toISOString(), parts: [{ role: "text", body: "hi" }] }));
    await alice.waitForMessage("hi", lonePuppet);
    const t0 = Date.now();
    const set = await fetch(`${rig.coords.baseUrl}/_matrix/client/v3/presence/${encodeURIComponent(lonePuppet)}/status?user_id=${encodeURIComponent(lonePuppet)}`, {
      method: "PUT", headers: { authorization: `Bearer ${rig.slot.asToken}`, "content-type": "application/json" }, body: JSON.stringify({ presence: "online" }),
    });
    expect(set.status).toBe(200);
    await alice.waitForPresence(lonePuppet, "online");
    // Synapse checks presence timers every 5 s, the first time 30 s after it starts.
    const offline = await alice.waitForPresence(lonePuppet, "offline", 45_000);
    const elapsed = Date.now() - t0;
    console.log(`measured: an unrefreshed puppet went offline ${elapsed} ms after going online (sync_online_timeout ${rig.coords.presenceSyncOnlineTimeoutMs} ms)`);
    expect(offline.presence).toBe("offline");
    expect(elapsed).toBeGreaterThanOrEqual(rig.coords.presenceSyncOnlineTimeoutMs);
    // Meanwhile the refreshed puppet never went offline.
    expect(alice.presences.filter((p) => p.userId === keptPuppet).map((p) => p.presence)).not.toContain("offline");
    expect((await puppetStatus(keptPuppet)).presence).toBe("online");
  }, 90_000);

  it("T-5.2.1 a puppet shows only what every Matrix user sharing a room with it may see, and flips offline when an unauthorised one joins", async () => {
    const carl = endpoint("carl@chat.example.org", "xmpp");
    const puppet = toNative(carl, rig.mappings);
    const aliceEp = ep(alice, rig.coords.serverName);
    const eveEp = ep(eve, rig.coords.serverName);
    const allowed = new Set([endpointKey(aliceEp)]);
    const original = rig.ctx.presenceFor.bind(rig.ctx);
    rig.ctx.presenceFor = async (w, p) => (allowed.has(endpointKey(w)) ? presence(p, "open") : undefined);
    try {
      // eve shares a DM with the puppet but may not see carl: the puppet stays offline for everyone.
      await rig.adapter.deliverPresence({ watcher: eveEp, presence: presence(carl, "closed") });
      await rig.adapter.deliverPresence({ watcher: aliceEp, presence: presence(carl, "open") });
      expect((await puppetStatus(puppet)).presence).toBe("offline");
      allowed.add(endpointKey(eveEp));
      await rig.adapter.deliverPresence({ watcher: aliceEp, presence: presence(carl, "open") });
      await alice.waitForPresence(puppet, "online");
      // An unauthorised user gets a room with the puppet: its presence flips to offline at once.
      const zed = await startUser(rig.coords.baseUrl, rig.coords.registrationSharedSecret, uniqueName("zed"));
      try {
        const zedEp = ep(zed, rig.coords.serverName);
        await rig.adapter.deliverMessage(MessageSchema.parse({ id: newCanonicalId(), from: carl, to: zedEp, authenticatedBy: { method: "network" }, sentAt: new Date().toISOString(), parts: [{ role: "text", body: "hi zed" }] }));
        expect((await puppetStatus(puppet)).presence).toBe("offline");
        await alice.waitForPresence(puppet, "offline");
      } finally {
        zed.stop();
      }
    } finally {
      rig.ctx.presenceFor = original;
    }
  });

  it("T-3.1.1 T-4.4.2 a Matrix user's presence becomes canonical presence (unavailable → open + away)", async () => {
    const aliceEp = ep(alice, rig.coords.serverName);
    // Synapse tells an application service the presence of users who share a room with its users.
    const dan = endpoint("dan@chat.example.org", "xmpp");
    await rig.adapter.deliverMessage(MessageSchema.parse({ id: newCanonicalId(), from: dan, to: aliceEp, authenticatedBy: { method: "network" }, sentAt: new Date().toISOString(), parts: [{ role: "text", body: "hello from dan" }] }));
    const hello = await alice.waitForMessage("hello from dan");
    await alice.waitForEvent((e) => e.getRoomId() === hello.getRoomId() && e.getType() === "m.room.member" && e.getStateKey() === alice.userId && e.getContent().membership === "join");
    // A syncing client keeps its sync presence: set both, as a client going idle does.
    await alice.client.setSyncPresence(SetPresence.Unavailable);
    await alice.client.setPresence({ presence: "unavailable", status_msg: "at lunch" });
    const ev = await rig.ctx.waitForAccepted((e): e is PresenceEvent =>
      e.kind === "presence" && endpointKey(e.presence.presentity) === endpointKey(aliceEp) && e.presence.tuples[0]?.show === "away", 20_000);
    expect(ev.presence.tuples[0]).toMatchObject({ basic: "open", show: "away", note: { und: "at lunch" } });
    expect(ev.presence.person?.userInput?.state).toBe("idle");
    expect(ev.authenticatedBy.method).toBe("network");
  });
});
