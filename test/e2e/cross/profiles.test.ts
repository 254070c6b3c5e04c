/**
 * Profiles carried across (issue 15; RFC 2779 3.1.3, 4.1.4) with real clients: an XMPP user asks
 * a Matrix user's puppet for its vCard (XEP-0054) and gets the Matrix user's own display name,
 * avatar and contact URI, and the new ones after the Matrix user changes them; and the other way,
 * a Matrix user sees an XMPP user's puppet with the name and avatar of her vCard, and the new ones
 * after she changes them.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { connectUser, xml, type TestUser } from "../xmpp/support.js";
import { endpoint } from "../../../src/model/address.js";
import { until } from "../../support/until.js";
import { matrixDownload } from "./media-support.js";
import { png } from "../../support/media-samples.js";
import { startCrossRig, type CrossRig } from "./rig.js";

// Slot 2: no other cross test uses it.
let r: CrossRig;
beforeAll(async () => { r = await startCrossRig(12, "profiles"); });
afterAll(async () => { await r?.stop(); });

async function vcardOfBob() {
  const res = await r.alice.xmpp.iqCaller.request(xml("iq", { type: "get", to: r.on("xmpp", r.bobEp) }, xml("vCard", { xmlns: "vcard-temp" })));
  const v = res.getChild("vCard", "vcard-temp")!;
  return { fn: v.getChildText("FN"), type: v.getChild("PHOTO")?.getChildText("TYPE"), binval: v.getChild("PHOTO")?.getChildText("BINVAL"), urls: v.getChildren("URL").map((u) => u.text()) };
}

async function setAvatar(bytes: Buffer): Promise<void> {
  const { content_uri } = await r.bob.client.uploadContent(bytes, { type: "image/png", name: "me.png" });
  await r.bob.client.setAvatarUrl(content_uri);
}

describe("a Matrix user's profile on the XMPP puppet's vCard", () => {
  it("T-3.1.3 T-4.1.4 the vCard shows the Matrix user's display name, avatar and contact URI, and follows their changes", async () => {
    const first = png(16, 16, 1);
    await r.bob.client.setDisplayName("Bob the Builder");
    await setAvatar(first);
    const v1 = await vcardOfBob();
    expect(v1.fn).toBe("Bob the Builder");
    expect(v1.type).toBe("image/png");
    expect(Buffer.from(v1.binval ?? "", "base64").equals(first)).toBe(true);
    expect(v1.urls).toContain(`matrix:u/${r.bob.userId.slice(1)}`);

    const second = png(24, 24, 2);
    await r.bob.client.setDisplayName("Robert");
    await setAvatar(second);
    const v2 = await vcardOfBob();
    expect(v2.fn).toBe("Robert");
    expect(Buffer.from(v2.binval ?? "", "base64").equals(second)).toBe(true);
  });

  it("disco#info on a puppet lists vcard-temp", async () => {
    const info = await r.alice.xmpp.iqCaller.request(xml("iq", { type: "get", to: r.on("xmpp", r.bobEp) }, xml("query", { xmlns: "http://jabber.org/protocol/disco#info" })));
    expect(info.getChild("query")!.getChildren("feature").map((f) => f.attrs.var)).toContain("vcard-temp");
  });
});

describe("an XMPP user's profile on the Matrix puppet", () => {
  it("T-3.1.3 T-4.1.4 T-3.1.4 the puppet shows the XMPP user's vCard name and avatar (XEP-0054, then XEP-0292 and XEP-0084), and follows a change their server announces in presence (XEP-0153)", async () => {
    const peggy = await connectUser("peggy", { resource: "profiles" });
    try {
      const ep = endpoint(peggy.bare, "xmpp");
      const puppet = r.on("matrix", ep);
      const bobJid = r.on("xmpp", r.bobEp);
      // vcard-temp set, as most clients do (Prosody keeps it as a vCard4 and an avatar on PEP).
      const first = png(16, 16, 3);
      await peggy.xmpp.iqCaller.request(xml("iq", { type: "set" }, xml("vCard", { xmlns: "vcard-temp" },
        xml("FN", {}, "Peggy Sue"), xml("PHOTO", {}, xml("TYPE", {}, "image/png"), xml("BINVAL", {}, first.toString("base64"))))));
      await peggy.send(xml("message", { type: "chat", to: bobJid, id: "p1" }, xml("body", {}, "hello from Peggy")));
      await r.bob.waitForMessage("hello from Peggy", puppet, 30_000);
      await shows(puppet, `Peggy Sue (${ep.address})`, first);

      // Bob watches Peggy's presence; she approves on her roster.
      const { room_id: botRoom } = await r.bob.client.createRoom({ invite: [r.botUserId], is_direct: true });
      await r.bob.waitForEvent((e) => e.getRoomId() === botRoom && e.getStateKey() === r.botUserId && e.getContent().membership === "join", 30_000, "the bot joining");
      await r.bob.say(botRoom, { msgtype: "m.text", body: `watch ${ep.address}` });
      await peggy.inbox.next((s) => s.is("presence") && s.attrs.type === "subscribe" && s.attrs.from === bobJid, 30_000, "Bob's subscribe");
      await peggy.send(xml("presence", { type: "subscribed", to: bobJid }));
      await r.bob.waitForMessage("approved", r.botUserId, 30_000);

      // A new name as XEP-0292 vCard4 and a new avatar as XEP-0084, published on PEP; then her presence (XEP-0153: the server adds the new hash).
      const second = png(24, 24, 4);
      const hash = createHash("sha1").update(second).digest("hex");
      await publish(peggy, "urn:xmpp:vcard4", "current", xml("vcard", { xmlns: "urn:ietf:params:xml:ns:vcard-4.0" }, xml("fn", {}, xml("text", {}, "Margaret"))));
      await publish(peggy, "urn:xmpp:avatar:data", hash, xml("data", { xmlns: "urn:xmpp:avatar:data" }, second.toString("base64")));
      await publish(peggy, "urn:xmpp:avatar:metadata", hash, xml("metadata", { xmlns: "urn:xmpp:avatar:metadata" }, xml("info", { id: hash, type: "image/png", bytes: String(second.length) })));
      await peggy.send(xml("presence", {}, xml("status", {}, "new picture")));
      await shows(puppet, `Margaret (${ep.address})`, second);
    } finally {
      await peggy.stop();
    }
  });
});

/** A PEP publish (XEP-0163) with an open access model, so the gateway may read it (XEP-0060 publish-options). */
async function publish(user: TestUser, node: string, id: string, payload: ReturnType<typeof xml>): Promise<void> {
  const options = xml("publish-options", {}, xml("x", { xmlns: "jabber:x:data", type: "submit" },
    xml("field", { var: "FORM_TYPE", type: "hidden" }, xml("value", {}, "http://jabber.org/protocol/pubsub#publish-options")),
    xml("field", { var: "pubsub#access_model" }, xml("value", {}, "open"))));
  await user.xmpp.iqCaller.request(xml("iq", { type: "set" }, xml("pubsub", { xmlns: "http://jabber.org/protocol/pubsub" }, xml("publish", { node }, xml("item", { id }, payload)), options)));
}

/** Wait until the Matrix user sees `puppet` named `name` with exactly `avatar` (compared by hash). */
async function shows(puppet: string, name: string, avatar: Buffer): Promise<void> {
  const want = createHash("sha256").update(avatar).digest("hex");
  let last = "";
  try {
    await until(`${puppet} named ${name} with its avatar`, async () => {
      const p = await r.bob.client.getProfileInfo(puppet);
      const got = p.avatar_url ? createHash("sha256").update(await matrixDownload(r.bob, p.avatar_url)).digest("hex") : "none";
      last = `${p.displayname} / ${got}`;
      return p.displayname === name && got === want ? true : undefined;
    }, 30_000, 200);
  } catch (e) {
    throw new Error(`${(e as Error).message}; last seen: ${last}`, { cause: e });
  }
}
