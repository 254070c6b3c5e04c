/**
 * vcard-temp (XEP-0054) on puppets (issue 15): an XMPP user asking a puppet for its vCard gets the
 * foreign person's own profile, read live from their home network (`ctx.profiles`): `FN` and
 * `NICKNAME` from the display name (the canonical address when there is none), `PHOTO` from the
 * avatar, and the contact URIs as `EMAIL`, `TEL`, `JABBERID` or `URL` (RFC 2779 3.1.3, 4.1.4).
 */
import type { Profile } from "../../src/adapter/profiles.js";
import type { Endpoint } from "../../src/model/address.js";
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
