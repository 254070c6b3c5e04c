/**
 * A puppet's Matrix profile from its person's own (issue 15; RFC 2779 3.1.3; DESIGN §8): the
 * display name `<their name> (<canonical address>)` — the address stays, so nobody's chosen name
 * stands alone for an identity (docs/security.md) — and their avatar, uploaded as the puppet.
 * Read from the home network (`ctx.profiles`) on a puppet's message or presence when the last
 * read is older than `profileRefreshSeconds`, or at once when a presence's profile hint changes
 * (an XMPP avatar hash). In the background: a delivery never waits for or fails on a profile.
 */
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { profileHintOf, type Profile } from "../../src/adapter/profiles.js";
import type { Endpoint } from "../../src/model/address.js";
import type { Extensions } from "../../src/model/common.js";
import { errorMessage } from "../../src/errors/message.js";
import type { AdapterContext } from "../../src/adapter/contract.js";
import type { Logger } from "../../src/log/logger.js";
import type { MatrixConfig } from "./config.js";
import type { Homeserver } from "./homeserver.js";
import { Method, enc } from "./homeserver.js";
import { upload } from "./media/http.js";

/** What was last applied to a puppet (adapter state `profile:<puppet>`). */
interface Applied { at: number; hint?: string; name: string; avatar?: string }

export interface ProfileDeps { readonly ctx: AdapterContext; readonly config: MatrixConfig; readonly hs: Homeserver; readonly log: Logger }

export function puppetDisplayName(who: Endpoint, profile: Profile | undefined): string {
  const name = (profile?.displayName ?? "").replace(/[\p{Cc}\p{Cf}\p{Z}\s]+/gu, " ").trim().slice(0, 200);
  return name !== "" && name !== who.address ? `${name} (${who.address})` : who.address;
}

export class PuppetProfiles {
  /** Per puppet: a refresh running, and the latest request that came in meanwhile. */
  private readonly lines = new Map<string, { next?: { who: Endpoint; hint?: string } }>();

  constructor(private readonly d: ProfileDeps) {}

  /** Bring `puppet` up to date with `who`'s profile in the background (never throws). */
  follow(puppet: string, who: Endpoint, extensions: Extensions = {}): void {
    if (!this.d.ctx.profiles) return;
    const hint = profileHintOf(extensions);
    const line = this.lines.get(puppet);
    if (line) {
      line.next = { who, ...(hint !== undefined ? { hint } : line.next?.hint !== undefined ? { hint: line.next.hint } : {}) };
      return;
    }
    const fresh: { next?: { who: Endpoint; hint?: string } } = {};
    this.lines.set(puppet, fresh);
    const run = async (w: Endpoint, h: string | undefined): Promise<void> => {
      try {
        await this.refresh(puppet, w, h);
      } catch (e) {
        this.d.log.info({ err: errorMessage(e), puppet }, "puppet profile not updated");
      }
      const next = fresh.next;
      fresh.next = undefined;
      if (next) return run(next.who, next.hint);
      this.lines.delete(puppet);
    };
    void run(who, hint);
  }

  /** Read `who`'s profile and apply what changed, when due. */
  async refresh(puppet: string, who: Endpoint, hint: string | undefined): Promise<void> {
    const key = `profile:${puppet}`;
    const raw = await this.d.ctx.state.get(key);
    const prev = raw ? (JSON.parse(raw) as Applied) : undefined;
    const stale = !prev || Date.now() - prev.at >= this.d.config.profileRefreshSeconds * 1000;
    if (!stale && (hint === undefined || hint === prev.hint)) return;
    const profile = await this.d.ctx.profiles!.profileOf(who);
    // Unknown (the home network did not answer here, e.g. no XMPP link in this process): keep what the puppet shows.
    if (profile === undefined && prev) return;
    const name = puppetDisplayName(who, profile);
    if (name !== prev?.name) await this.d.hs.request(puppet, Method.Put, `/profile/${enc(puppet)}/displayname`, { displayname: name });
    const avatar = profile?.avatar ? createHash("sha256").update(profile.avatar.bytes).digest("hex") : undefined;
    if (avatar !== prev?.avatar) {
      const url = profile?.avatar
        ? await upload(this.d.config, Readable.from([profile.avatar.bytes]), { contentType: profile.avatar.contentType, size: profile.avatar.bytes.length, filename: "avatar" }, puppet)
        : "";
      await this.d.hs.request(puppet, Method.Put, `/profile/${enc(puppet)}/avatar_url`, { avatar_url: url });
    }
    const applied: Applied = { at: Date.now(), name, ...(avatar !== undefined ? { avatar } : {}), ...((hint ?? prev?.hint) !== undefined ? { hint: hint ?? prev?.hint } : {}) };
    await this.d.ctx.state.set(key, JSON.stringify(applied));
    this.d.log.debug({ puppet, named: name !== who.address, avatar: avatar !== undefined }, "puppet profile updated");
  }
}
