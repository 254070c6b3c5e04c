/** The bridge bot's subscription dialogue and puppets' answers to invites, against the tier's Synapse. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { endpoint, type Endpoint } from "../../../src/model/address.js";
import type { MessageEvent, SubscriptionEvent } from "../../../src/model/events.js";
import { newCanonicalId } from "../../../src/model/ids.js";
import { MessageSchema } from "../../../src/model/message.js";
import { toNative } from "../../../adapters/matrix/address.js";
import { startUser, uniqueName, type TestMatrixUser } from "../../harness/synapse/clients.js";
import { startRig, type Rig } from "./rig.js";

let rig: Rig;
let alice: TestMatrixUser;
let eve: TestMatrixUser;
let aliceEp: Endpoint;
let bot: string;
const bob = endpoint("bob@chat.example.org", "xmpp");

beforeAll(async () => {
  rig = await startRig(3);
  alice = await startUser(rig.coords.baseUrl, rig.coords.registrationSharedSecret, uniqueName("bea"));
  eve = await startUser(rig.coords.baseUrl, rig.coords.registrationSharedSecret, uniqueName("eve"));
  aliceEp = endpoint(`${alice.userId.slice(1, alice.userId.indexOf(":"))}@${rig.coords.serverName}`, "matrix");
  bot = `@${rig.slot.botLocalpart}:${rig.coords.serverName}`;
});

afterAll(async () => {
  alice?.stop();
  eve?.stop();
  await rig?.stop();
});

const subscriptionWith = (action: string) => (e: unknown): e is SubscriptionEvent =>
  (e as SubscriptionEvent).kind === "subscription" && (e as SubscriptionEvent).request.action === action;

describe("Matrix adapter with Synapse: bridge bot", () => {
  let botRoom: string;

  it("T-5.1.5 T-2.3.2 a subscription request reaches the Matrix user through the bridge bot, and `approve` completes it", async () => {
    await rig.adapter.deliverSubscription({
      to: aliceEp, notice: "request",
      subscription: { watcher: bob, presentity: aliceEp, state: "pending", at: new Date().toISOString() },
    });
    const ask = await alice.waitForMessage("asks to see your presence", bot);
    expect(ask.getContent().body).toContain("bob@chat.example.org (xmpp)");
    botRoom = ask.getRoomId()!;
    await alice.say(botRoom, { msgtype: "m.text", body: "approve bob@chat.example.org" });
    const ev = await rig.ctx.waitForAccepted(subscriptionWith("approve"));
    expect(ev.request).toMatchObject({ action: "approve", watcher: bob, presentity: aliceEp, actor: aliceEp, authenticatedBy: { method: "network" } });
    await alice.waitForMessage("Approved: bob@chat.example.org (xmpp)", bot);
  });

  it("T-5.1.10 `watchers` lists the subscription index", async () => {
    rig.ctx.subscriptions.push({ watcher: bob, presentity: aliceEp, state: "approved", decidedBy: "presentity", at: new Date().toISOString() });
    await alice.say(botRoom, { msgtype: "m.text", body: "watchers" });
    await alice.waitForMessage("bob@chat.example.org (xmpp): approved", bot);
  });

  it("T-5.1.9 `revoke` becomes a canonical revocation; `deny` with no request says so", async () => {
    await alice.say(botRoom, { msgtype: "m.text", body: "revoke bob@chat.example.org" });
    const ev = await rig.ctx.waitForAccepted(subscriptionWith("revoke"));
    expect(ev.request.watcher).toEqual(bob);
    await alice.say(botRoom, { msgtype: "m.text", body: "deny nobody@nowhere.example" });
    await alice.waitForMessage("There is no request or subscription from nobody@nowhere.example", bot);
  });

  it("`help` and unknown words answer with the commands", async () => {
    await alice.say(botRoom, { msgtype: "m.text", body: "what?" });
    await alice.waitForMessage("approve <address>", bot);
  });

  it("T-5.1.5 an outcome of the Matrix user's own request is told by the bot", async () => {
    await rig.adapter.deliverSubscription({
      to: aliceEp, notice: "outcome",
      subscription: { watcher: aliceEp, presentity: bob, state: "denied", decidedBy: "presentity", at: new Date().toISOString() },
    });
    await alice.waitForMessage("Your subscription to bob@chat.example.org (xmpp) is denied", bot);
  });
});

describe("Matrix adapter with Synapse: invites to puppets", () => {
  it("T-2.2.1 a Matrix user's direct invite to a puppet is accepted and their message there becomes canonical", async () => {
    const frank = endpoint("frank@jabber.example", "xmpp");
    const puppet = toNative(frank, rig.mappings);
    const { room_id: roomId } = await alice.client.createRoom({ is_direct: true, invite: [puppet], preset: "trusted_private_chat" as never });
    await alice.waitForEvent((e) => e.getRoomId() === roomId && e.getStateKey() === puppet && e.getContent().membership === "join");
    await alice.say(roomId, { msgtype: "m.text", body: "hi frank" });
    const ev = await rig.ctx.waitForAccepted((e): e is MessageEvent => e.kind === "message" && e.message.parts[0]?.role === "text" && e.message.parts[0].body === "hi frank");
    expect(ev.message.to).toEqual(frank);
    expect(ev.message.from).toEqual(aliceEp);
    expect((await alice.client.getProfileInfo(puppet)).displayname).toBe("frank@jabber.example");
  });

  it("T-2.3.6 a group invite is declined with a notice: no 1:1 conversation is bridged into a room with others", async () => {
    const puppet = toNative(endpoint("gina@chat.example.org", "xmpp"), rig.mappings);
    const { room_id: roomId } = await alice.client.createRoom({ invite: [eve.userId] });
    await eve.waitForEvent((e) => e.getRoomId() === roomId && e.getStateKey() === eve.userId && e.getContent().membership === "join");
    await alice.client.invite(roomId, puppet);
    const n = await alice.waitForMessage("group chats are not bridged yet", puppet);
    expect(n.getContent().msgtype).toBe("m.notice");
    await alice.waitForEvent((e) => e.getRoomId() === roomId && e.getStateKey() === puppet && e.getContent().membership === "leave");
  });

  it("an encrypted room gets a notice saying what cannot be bridged", async () => {
    const puppet = toNative(endpoint("hal@chat.example.org", "xmpp"), rig.mappings);
    const { room_id: roomId } = await alice.client.createRoom({
      is_direct: true, invite: [puppet],
      initial_state: [{ type: "m.room.encryption", state_key: "", content: { algorithm: "m.megolm.v1.aes-sha2" } }],
    });
    const n = await alice.waitForMessage("end-to-end encrypted", puppet);
    expect(n.getRoomId()).toBe(roomId);
    expect(n.getContent().body).toContain("hal@chat.example.org");
  });

  it("encryption turned on in a bridged DM gets a notice, and the next message opens a fresh room", async () => {
    const kim = endpoint("kim@chat.example.org", "xmpp");
    const puppet = toNative(kim, rig.mappings);
    const first = MessageSchema.parse({ id: newCanonicalId(), from: kim, to: aliceEp, authenticatedBy: { method: "network" }, sentAt: new Date().toISOString(), parts: [{ role: "text", body: "plain at first" }] });
    await rig.adapter.deliverMessage(first);
    const m = await alice.waitForMessage("plain at first", puppet);
    const roomId = m.getRoomId()!;
    await alice.waitForEvent((e) => e.getRoomId() === roomId && e.getStateKey() === alice.userId && e.getContent().membership === "join");
    await alice.client.sendStateEvent(roomId, "m.room.encryption" as never, { algorithm: "m.megolm.v1.aes-sha2" } as never, "");
    const n = await alice.waitForMessage("end-to-end encrypted", puppet);
    expect(n.getRoomId()).toBe(roomId);
    await alice.waitForEvent((e) => e.getRoomId() === roomId && e.getStateKey() === puppet && e.getContent().membership === "leave");
    await rig.adapter.deliverMessage({ ...first, id: newCanonicalId(), parts: [{ role: "text", body: "in a new room" }] });
    expect((await alice.waitForMessage("in a new room", puppet)).getRoomId()).not.toBe(roomId);
  });

  it("the user query creates a puppet in the namespace and refuses anything else", async () => {
    const auth = { authorization: `Bearer ${rig.slot.hsToken}` };
    const puppet = toNative(endpoint("ivy@example.org", "email"), rig.mappings);
    expect((await fetch(`${rig.slot.url}/_matrix/app/v1/users/${encodeURIComponent(puppet)}`, { headers: auth })).status).toBe(200);
    expect((await alice.client.getProfileInfo(puppet)).displayname).toBe("ivy@example.org");
    expect((await fetch(`${rig.slot.url}/_matrix/app/v1/users/${encodeURIComponent(`@${rig.slot.puppetPrefix}xmpp_=41:${rig.coords.serverName}`)}`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${rig.slot.url}/_matrix/app/v1/rooms/${encodeURIComponent("#x:y")}`, { headers: auth })).status).toBe(404);
  });
});
