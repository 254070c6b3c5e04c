/**
 * An XMPP user's profile for the other networks (issue 15; RFC 2779 3.1.3, 4.1.4): their vCard,
 * asked of their own server with a vcard-temp get (XEP-0054) from the component. Prosody's
 * `mod_vcard_legacy` answers it from the user's PEP nodes, so a vCard set with XEP-0054, a
 * XEP-0292 vCard4 and a XEP-0084 avatar all show (README, "Profiles"). Read when asked.
 */
import { MAX_AVATAR_BYTES, PROFILE_HINT, type Profile } from "../../src/adapter/profiles.js";
import type { Endpoint } from "../../src/model/address.js";
import { errorMessage } from "../../src/errors/message.js";
import { XMPP, toNative } from "./address.js";
import { xml, type XmlElement } from "./connection.js";
import type { Extensions } from "../../src/model/common.js";
import type { XmppRuntime } from "./stanza.js";
import { NS_VCARD, profileOfVcard } from "./vcard.js";

/** XEP-0153: the avatar hash a user's server adds to their presence (Prosody's mod_vcard_legacy). */
export const NS_VCARD_UPDATE = "vcard-temp:x:update";

/** `avatarSha1`: the avatar hash last seen in the user's presence, to pick the current photo. */
export async function xmppProfile(rt: XmppRuntime, who: Endpoint, avatarSha1?: string): Promise<Profile | undefined> {
  if (who.network !== XMPP) return undefined;
  const from = [...rt.link.onlineDomains()][0];
  if (from === undefined) return undefined;
  const jid = toNative(who, rt.ctx.mappings());
  try {
    const res = await rt.link.request(xml("iq", { type: "get", from, to: jid }, xml("vCard", { xmlns: NS_VCARD })));
    const v = res.attrs.type === "result" ? res.getChild("vCard", NS_VCARD) : undefined;
    return v ? profileOfVcard(v, `xmpp:${jid}`, MAX_AVATAR_BYTES, avatarSha1) : undefined;
  } catch (e) {
    rt.log.info({ err: errorMessage(e) }, "vCard not read");
    return undefined;
  }
}

const MAX_USERS = 100_000;

/**
 * XEP-0153 avatar hashes per user, as their server writes them into presence
 * (`<x xmlns='vcard-temp:x:update'><photo>sha1</photo></x>`; an empty `photo` is "no avatar").
 * Carried into canonical presence as the profile hint (`urn:parley:profile:0` `{ avatar }`), so the
 * other networks know when to read the profile again (src/adapter/profiles.ts).
 */
export class AvatarHashes {
  private readonly hashes = new Map<string, string>();

  /** Record the hash in `el`, if it has one; true when it differs from the last one seen. */
  note(bare: string, el: XmlElement): boolean {
    const x = el.attrs.type === undefined ? el.getChild("x", NS_VCARD_UPDATE) : undefined;
    if (!x) return false;
    const photo = (x.getChildText("photo") ?? "").trim().toLowerCase().slice(0, 128);
    if (this.hashes.get(bare) === photo) return false;
    if (!this.hashes.has(bare) && this.hashes.size >= MAX_USERS) this.hashes.delete(this.hashes.keys().next().value!);
    this.hashes.set(bare, photo);
    return true;
  }

  /** The last hash seen for `bare` (undefined: none seen, "": no avatar). */
  hashOf(bare: string): string | undefined {
    return this.hashes.get(bare);
  }

  extensionOf(bare: string): Extensions {
    const photo = this.hashes.get(bare);
    return photo === undefined ? {} : { [PROFILE_HINT]: { payload: { avatar: photo } } };
  }
}
