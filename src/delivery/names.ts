/**
 * Queue names and job ids (DESIGN §3 "idempotent delivery", §6 scale; RFC 2779 5.4.2, 2.2.3).
 *
 * A fixed, configurable number of partitions per (kind, network) — never a queue per domain or
 * conversation (RFC 2779 2.2.3) — so a kill switch pauses one network's queues and nothing else.
 * A conversation always goes to the same partition (a hash of its key), so its order holds; an
 * unordered job goes by its own key (so coalescing still finds its twin).
 *
 * Redis Cluster: a queue's BullMQ name is its hash tag, `{message-xmpp}` or `{message-xmpp#3}`,
 * so every BullMQ key of the queue and every key of ours for its conversations (order line, park
 * set, sent markers: runner.ts `deliveryKeys`) hash to one slot, and one MULTI or Lua script
 * touches one slot only. Partitions spread the queues over the cluster's masters.
 * One job per (message, target): the job id is the spec's `key`, made safe for BullMQ, which
 * refuses `:` and integer-looking custom ids. The mapping is injective (`%` and `:` are
 * percent-encoded, and a `k_` prefix keeps it from ever looking like an integer).
 */
import type { NetworkId } from "../model/address.js";
import type { JobKind } from "./types.js";

export const JOB_KINDS: readonly JobKind[] = ["message", "status", "subscription", "presence", "room"];

/** BullMQ's name of partition `partition` of the (kind, network) queue, hash tag included. */
export function queueName(kind: JobKind, network: NetworkId, partition = 0): string {
  return partition === 0 ? `{${kind}-${network}}` : `{${kind}-${network}#${partition}}`;
}

/** What operators see (metrics, counts): `message-xmpp`, every partition summed. */
export function queueLabel(name: string): string {
  return name.replace(/^\{/, "").replace(/(#\d+)?\}$/, "");
}

/** The partition of an ordering key: FNV-1a (32 bit) of its UTF-16 code units, modulo `partitions`. */
export function partitionOf(key: string, partitions: number): number {
  if (partitions <= 1) return 0;
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % partitions;
}

export function jobIdForKey(key: string): string {
  if (key === "") throw new Error("a delivery job needs a non-empty key");
  return `k_${key.replace(/[%:]/g, (c) => (c === "%" ? "%25" : "%3A"))}`;
}

/** Inverse of {@link jobIdForKey} (for admin listings). */
export function keyForJobId(jobId: string): string | undefined {
  if (!jobId.startsWith("k_")) return undefined;
  return jobId.slice(2).replace(/%3A|%25/g, (c) => (c === "%3A" ? ":" : "%"));
}
