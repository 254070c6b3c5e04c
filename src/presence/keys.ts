/**
 * Redis key layout of presence and subscriptions (docs/presence.md). Every key starts with the
 * gateway's prefix; an endpoint is named by `endpointKey` (`network/address`).
 *
 *   pres:<ep>          hash  seq, ov (origin version), p (presence JSON), o (1 = open), seen (ms),
 *                            lf (last fan-out ms), fb (basic at the last fan-out)
 *   pres:live          zset  open presentities → liveness deadline (ms)
 *   pres:due           zset  presentities with a throttled fan-out → when it is due (ms)
 *   sub:w:<presentity> hash  watcher ep → subscription record   (the fan-out index)
 *   sub:p:<watcher>    hash  presentity ep → subscription record (what a watcher watches)
 *   sub:unshown:<ep>   set   watchers whose pending request the presentity has not been shown
 *   probes:<watcher>   set   presentities whose probes the watcher's probe job will answer
 *   acl:<ep>           string per-address access-rule overrides (src/policy)
 *
 * The scripts touch several of these keys at once; under Redis Cluster they would need one hash
 * tag per presentity plus per-slot `live`/`due` sets (not done: DESIGN §6 runs one Redis).
 */
import { asNetworkId, endpointKey, type CanonicalAddress, type Endpoint } from "../model/address.js";

export class PresenceKeys {
  constructor(readonly prefix: string) {}
  presence(who: Endpoint | string): string { return `${this.prefix}pres:${typeof who === "string" ? who : endpointKey(who)}`; }
  get live(): string { return `${this.prefix}pres:live`; }
  get due(): string { return `${this.prefix}pres:due`; }
  watchers(presentity: Endpoint | string): string { return `${this.prefix}sub:w:${typeof presentity === "string" ? presentity : endpointKey(presentity)}`; }
  watching(watcher: Endpoint | string): string { return `${this.prefix}sub:p:${typeof watcher === "string" ? watcher : endpointKey(watcher)}`; }
  unshown(presentity: Endpoint): string { return `${this.prefix}sub:unshown:${endpointKey(presentity)}`; }
}

/** The endpoint named by an `endpointKey` that this store wrote itself (trusted, not re-validated). */
export function endpointFromKey(key: string): Endpoint {
  const slash = key.indexOf("/");
  return { network: asNetworkId(key.slice(0, slash)), address: key.slice(slash + 1) as CanonicalAddress };
}
