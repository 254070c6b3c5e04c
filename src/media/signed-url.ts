/**
 * Unguessable, expiring media URLs: `<base>/m/<payload>/<signature>/<filename>`. The payload
 * names the blob, its media type and filename and the expiry; an HMAC-SHA256 over it with the
 * listener's key proves Parley made it. Nothing is stored per URL, so any process with the same
 * key can serve any link.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { refHex } from "./blob-store.js";

export interface SignedMedia {
  readonly ref: string;
  readonly contentType: string;
  readonly filename: string;
  /** Expiry, milliseconds since the epoch. */
  readonly expires: number;
}

function sign(key: Buffer, payload: string): string {
  return createHmac("sha256", key).update(payload).digest("base64url");
}

/** The path (after the base URL) of a signed link to `media`. */
export function signedPath(key: Buffer, media: SignedMedia): string {
  const payload = Buffer.from(JSON.stringify({ h: refHex(media.ref), t: media.contentType, n: media.filename, e: media.expires })).toString("base64url");
  return `/m/${payload}/${sign(key, payload)}/${encodeURIComponent(media.filename)}`;
}

/** The media a path names, or undefined when it is malformed, forged or expired. */
export function verifyPath(key: Buffer, path: string, now = Date.now()): SignedMedia | undefined {
  const m = /^\/m\/([A-Za-z0-9_-]{1,2048})\/([A-Za-z0-9_-]{43})(?:\/[^/]*)?$/.exec(path);
  if (!m) return undefined;
  const [, payload, signature] = m as unknown as [string, string, string];
  const want = Buffer.from(sign(key, payload));
  const got = Buffer.from(signature);
  if (want.length !== got.length || !timingSafeEqual(want, got)) return undefined;
  try {
    const p = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { h: string; t: string; n: string; e: number };
    if (typeof p.e !== "number" || p.e < now) return undefined;
    return { ref: `sha256:${p.h}`, contentType: String(p.t), filename: String(p.n), expires: p.e };
  } catch {
    return undefined;
  }
}
