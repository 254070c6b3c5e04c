/**
 * Profiles carried across (issue 15; RFC 2779 3.1.3, 4.1.4) with real clients: an XMPP user asks
 * a Matrix user's puppet for its vCard (XEP-0054) and gets the Matrix user's own display name,
 * avatar and contact URI, and the new ones after the Matrix user changes them.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { xml } from "../xmpp/support.js";
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
