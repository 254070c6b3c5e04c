/**
 * Profiles (issue 15; RFC 2779 3.1.3, 4.1.4; DESIGN §8 "display names and avatars carried across"):
 * a person's display name, avatar and contact URIs, read from their home network's own profile
 * (a Matrix profile, an XMPP vCard) and shown on the others (an XMPP puppet's vCard, a Matrix
 * puppet's profile). Read live when asked, so a change at the source shows on the next request.
 */
import type { Endpoint } from "../model/address.js";

export interface Avatar {
  readonly bytes: Buffer;
  /** `image/png`, `image/jpeg`, … as the source said it. */
  readonly contentType: string;
}

export interface Profile {
  readonly displayName?: string;
  readonly avatar?: Avatar;
  /** Contact URIs of the person: `mailto:`, `tel:`, `xmpp:`, `matrix:`, `https:` (RFC 2779 3.1.3, 4.1.4). */
  readonly contacts: readonly string[];
}

/** Largest avatar carried, in bytes (an XMPP vCard is one stanza; XEP-0153 advises small images). */
export const MAX_AVATAR_BYTES = 256 * 1024;

/** Optional adapter capability: the profile of a user whose home is this network. */
export interface ProfileSource {
  /**
   * The profile of `who` (an endpoint of this network), or undefined when the network has none for it.
   * Must not: throw for an unknown user (undefined), or return an avatar over {@link MAX_AVATAR_BYTES}.
   */
  profileOf(who: Endpoint): Promise<Profile | undefined>;
}

export function providesProfiles<A extends object>(adapter: A): adapter is A & ProfileSource {
  return typeof (adapter as Partial<ProfileSource>).profileOf === "function";
}

/** What the core offers adapters as `ctx.profiles`: any endpoint's profile, from its home network's adapter. */
export interface ProfilePort {
  profileOf(who: Endpoint): Promise<Profile | undefined>;
}

/**
 * A canonical presence extension an adapter adds when its network announces that a person's
 * profile changed (XMPP: the XEP-0153 avatar hash in presence): `{ payload: { avatar: string } }`,
 * a value that changes with the avatar ("" for none). Other adapters read the profile again when
 * it changes (docs/extensions.md).
 */
export const PROFILE_HINT = "urn:parley:profile:0";

export function profileHintOf(extensions: Readonly<Record<string, { payload?: unknown }>>): string | undefined {
  const payload = extensions[PROFILE_HINT]?.payload as { avatar?: unknown } | undefined;
  return typeof payload?.avatar === "string" ? payload.avatar : undefined;
}
