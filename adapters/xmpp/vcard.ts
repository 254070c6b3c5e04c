/**
 * vcard-temp (XEP-0054) on puppets (issue 15): an XMPP user asking a puppet for its vCard gets the
 * foreign person's own profile, read live from their home network (`ctx.profiles`): `FN` and
 * `NICKNAME` from the display name (the canonical address when there is none), `PHOTO` from the
 * avatar, and the contact URIs as `EMAIL`, `TEL`, `JABBERID` or `URL` (RFC 2779 3.1.3, 4.1.4).
 */
import type { Profile } from "../../src/adapter/profiles.js";
import type { Endpoint } from "../../src/model/address.js";
import { createHash } from "node:crypto";
import { xml, type XmlElement } from "./connection.js";

export const NS_VCARD = "vcard-temp";

function contactElement(uri: string): XmlElement {
  const colon = uri.indexOf(":");
  const scheme = uri.slice(0, colon).toLowerCase();
  const rest = uri.slice(colon + 1);
  if (scheme === "mailto") return xml("EMAIL", {}, xml("INTERNET"), xml("USERID", {}, rest));
  if (scheme === "tel") return xml("TEL", {}, xml("VOICE"), xml("NUMBER", {}, rest));
  if (scheme === "xmpp") return xml("JABBERID", {}, rest);
  return xml("URL", {}, uri);
}

/** The vCard of `who` from its profile (or from its address alone). */
export function vcardOf(who: Endpoint, profile: Profile | undefined): XmlElement {
  const name = profile?.displayName ?? who.address;
  const children: XmlElement[] = [xml("FN", {}, name), xml("NICKNAME", {}, name)];
  if (profile?.avatar) {
    children.push(xml("PHOTO", {}, xml("TYPE", {}, profile.avatar.contentType), xml("BINVAL", {}, profile.avatar.bytes.toString("base64"))));
  }
  for (const uri of profile?.contacts ?? []) if (uri.includes(":")) children.push(contactElement(uri));
  return xml("vCard", { xmlns: NS_VCARD }, ...children);
}

/** What a vCard field holds as a contact URI (the reverse of {@link contactElement}). */
function contactsOf(v: XmlElement): string[] {
  const out: string[] = [];
  for (const e of v.getChildren("EMAIL")) { const t = e.getChildText("USERID")?.trim(); if (t) out.push(`mailto:${t}`); }
  for (const e of v.getChildren("TEL")) { const t = e.getChildText("NUMBER")?.trim(); if (t) out.push(`tel:${t}`); }
  for (const e of v.getChildren("JABBERID")) { const t = e.text().trim(); if (t) out.push(`xmpp:${t}`); }
  for (const e of v.getChildren("URL")) { const t = e.text().trim(); if (/^[a-z][a-z0-9+.-]*:/i.test(t)) out.push(t); }
  return out.slice(0, 32);
}

/**
 * A user's vcard-temp (XEP-0054) as a profile: the name from `FN` (else `NICKNAME`), the avatar from
 * `PHOTO` (`BINVAL`, at most `maxAvatarBytes`; an `EXTVAL` link is not fetched), contacts from
 * `EMAIL`, `TEL`, `JABBERID` and `URL`, plus `self` (the user's own `xmpp:` URI). Of several
 * photos (a server may list every avatar it keeps), the one whose SHA-1 is `currentSha1` (the hash
 * in the user's presence, XEP-0153), else the first.
 */
export function profileOfVcard(v: XmlElement, self: string, maxAvatarBytes: number, currentSha1?: string): Profile {
  const name = (v.getChildText("FN") ?? "").trim() || (v.getChildText("NICKNAME") ?? "").trim();
  const photos = v.getChildren("PHOTO");
  const photo = photos.find((p) => currentSha1 !== undefined && sha1Of(p) === currentSha1) ?? photos[0];
  const binval = photo?.getChildText("BINVAL")?.replace(/\s+/g, "") ?? "";
  const bytes = binval.length > 0 && binval.length <= Math.ceil(maxAvatarBytes / 3) * 4 ? Buffer.from(binval, "base64") : undefined;
  const type = (photo?.getChildText("TYPE") ?? "").trim().toLowerCase();
  return {
    ...(name !== "" ? { displayName: name.slice(0, 256) } : {}),
    ...(bytes && bytes.length > 0 ? { avatar: { bytes, contentType: /^image\/[a-z0-9.+-]+$/.test(type) ? type : "application/octet-stream" } } : {}),
    contacts: [self, ...contactsOf(v).filter((c) => c !== self)],
  };
}

function sha1Of(photo: XmlElement): string {
  return createHash("sha1").update(Buffer.from((photo.getChildText("BINVAL") ?? "").replace(/\s+/g, ""), "base64")).digest("hex");
}
