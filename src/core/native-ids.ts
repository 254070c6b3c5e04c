/**
 * A native message's ids on the way in, shared by one-to-one messages (accept.ts) and room messages
 * (rooms/service.ts): Parley's own sends coming back are echoes (the id map knows them), and each
 * native id is claimed once, so a network's replay is recognised and answered with the first id.
 */
import type { IdMap } from "../adapter/state.js";
import type { CanonicalId } from "../model/ids.js";
import type { NativeId } from "../model/message.js";
import type { InboundClaims } from "./ports.js";

/** The claim key of a native id. */
export function nativeKey(n: Pick<NativeId, "network" | "kind" | "id" | "scope">): string {
  return `${n.network}|${n.kind}|${n.scope ?? ""}|${n.id}`;
}

/** Parley's own sends coming back (an id it recorded on delivery) are never bridged again. */
export async function isEcho(ids: IdMap, nativeIds: readonly NativeId[]): Promise<boolean> {
  for (const n of nativeIds) {
    if ((await ids.canonicalFor(n)) !== undefined) return true;
  }
  return false;
}

/** Claim each native id for `id`; a replay of something already accepted names the earlier canonical id. */
export async function claimNativeIds(claims: InboundClaims, id: CanonicalId, nativeIds: readonly NativeId[]): Promise<{ claimed: string[]; earlier?: CanonicalId }> {
  const claimed: string[] = [];
  for (const n of nativeIds) {
    const key = nativeKey(n);
    const earlier = await claims.claim(key, id);
    if (earlier !== undefined && earlier !== id) {
      for (const k of claimed) await claims.release(k, id);
      return { claimed: [], earlier };
    }
    claimed.push(key);
  }
  return { claimed };
}

/** Give back claims of a message that was not accepted after all (best effort: they expire anyway). */
export async function releaseClaims(claims: InboundClaims, keys: readonly string[], id: CanonicalId): Promise<void> {
  for (const key of keys) await claims.release(key, id).catch(() => undefined);
}
