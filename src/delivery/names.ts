/**
 * Queue names and job ids (DESIGN §3 "idempotent delivery"; RFC 2779 5.4.2).
 *
 * One queue per (kind, network) — a fixed, small set, never one per domain or conversation
 * (RFC 2779 2.2.3) — so a kill switch pauses one network's queues and nothing else.
 * One job per (message, target): the job id is the spec's `key`, made safe for BullMQ, which
 * refuses `:` and integer-looking custom ids. The mapping is injective (`%` and `:` are
 * percent-encoded, and a `k_` prefix keeps it from ever looking like an integer).
 */
import type { NetworkId } from "../model/address.js";
import type { JobKind } from "./types.js";

export const JOB_KINDS: readonly JobKind[] = ["message", "status", "subscription", "presence", "room"];

export function queueName(kind: JobKind, network: NetworkId): string {
  return `${kind}-${network}`;
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
