/**
 * Trace keys (issue 17). Traces live in one Redis hash per minute, so that everything a process
 * buffered in one flush is written by one script call on one key:
 *
 *   <prefix>:trace:{<minute>}   hash, expires `retentionSeconds` after its last write
 *     m:<canonical id>   the message's hops recorded in that minute (JSON, one per line)
 *     a:<address>        ids of messages from or to the address in that minute (newest first)
 *     n:<native id>      the canonical id of a native id seen in that minute (inbound or as delivered)
 *
 * `<minute>` is Unix time / 60 s. A message's hops start in the minute of its canonical id
 * (UUIDv7 carries it) and may continue in later minutes (retries), so a reader looks from there
 * to now. Each call touches one key whose hash tag is the minute: Redis-Cluster-safe (one minute's
 * writes go to one node, the next minute's to another).
 */
import type { Keyspace } from "../store/keys.js";

export const BUCKET_MS = 60_000;

export interface TraceKeys {
  bucket(minute: number): string;
}

export function traceKeys(keys: Keyspace): TraceKeys {
  return { bucket: (minute) => keys.key("trace", `{${minute}}`) };
}

export const minuteOf = (ms: number): number => Math.floor(ms / BUCKET_MS);

/** Control characters separate records in a flush (writer.ts): never in a field. */
// eslint-disable-next-line no-control-regex
const clean = (s: string): string => s.replace(/[\x00-\x1f]/g, "");
export const messageField = (id: string): string => `m:${id}`;
export const addressField = (address: string): string => `a:${clean(address.toLowerCase())}`;
export const nativeField = (nativeId: string): string => `n:${clean(nativeId)}`;
