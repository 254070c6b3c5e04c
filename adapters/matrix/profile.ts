/**
 * A Matrix user's profile for the other networks (issue 15): `GET /profile/{userId}` (client-server
 * API "Profiles": `displayname`, `avatar_url`) read as the bridge bot, and the avatar's bytes
 * through the authenticated media download. Read on every request: a change shows at once.
 */
import { MAX_AVATAR_BYTES, type Avatar, type Profile } from "../../src/adapter/profiles.js";
import type { Endpoint } from "../../src/model/address.js";
import { errorMessage } from "../../src/errors/message.js";
import type { MatrixDeps } from "./deps.js";
import { httpStatusOf } from "./errors.js";
import { Method, enc } from "./homeserver.js";
import { download } from "./media/http.js";
import { localUserId } from "./outbound.js";
import { MATRIX } from "./config.js";

interface ProfileResponse { displayname?: unknown; avatar_url?: unknown }

export async function matrixProfile(d: MatrixDeps, who: Endpoint): Promise<Profile | undefined> {
  if (who.network !== MATRIX) return undefined;
  const userId = localUserId(d, who);
  let p: ProfileResponse;
  try {
    p = await d.hs.request<ProfileResponse>(d.bot, Method.Get, `/profile/${enc(userId)}`);
  } catch (e) {
    if (httpStatusOf(e) === 404) return undefined;
    throw e;
  }
  const displayName = typeof p.displayname === "string" && p.displayname.trim() !== "" ? p.displayname.slice(0, 256) : undefined;
  const avatar = typeof p.avatar_url === "string" && p.avatar_url.startsWith("mxc://") ? await avatarOf(d, p.avatar_url) : undefined;
  return {
    ...(displayName !== undefined ? { displayName } : {}),
    ...(avatar !== undefined ? { avatar } : {}),
    // The Matrix URI scheme (spec appendix "Matrix URI scheme"): the user's own contact.
    contacts: [`matrix:u/${userId.slice(1)}`],
  };
}

/** The avatar's bytes, or undefined when it cannot be had or is larger than MAX_AVATAR_BYTES. */
async function avatarOf(d: MatrixDeps, mxc: string): Promise<Avatar | undefined> {
  try {
    const file = await download(d.config, mxc, d.bot, d.config.requestTimeoutMs);
    if (file.length !== undefined && file.length > MAX_AVATAR_BYTES) {
      file.body.destroy();
      return undefined;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of file.body) {
      size += (chunk as Buffer).length;
      if (size > MAX_AVATAR_BYTES) {
        file.body.destroy();
        return undefined;
      }
      chunks.push(chunk as Buffer);
    }
    return { bytes: Buffer.concat(chunks), contentType: (file.contentType ?? "application/octet-stream").split(";")[0]!.trim() };
  } catch (e) {
    d.log.info({ err: errorMessage(e) }, "avatar not read");
    return undefined;
  }
}
