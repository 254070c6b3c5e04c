/**
 * What a message's trace records (issue 17): one hop per step it passed, with when (Unix ms, to
 * the microsecond) and what was decided — never the message's body or subject (privacy:
 * docs/security.md lists what is kept).
 *
 *   accepted    source network, native ids, how the sender was authenticated
 *   routed      target network, how the route was found (listed domain / open federation), policy
 *   enqueued    the delivery queue it waits in
 *   refused     the error code the sender was answered with (nothing was queued)
 *   attempt     one delivery attempt: process, outcome, failure class and reason, duration
 *   relayed | delivered | failed   the outcome of the delivery
 *   reported    the status reported back to the sender, and on which network
 */
export const HOP_KINDS = ["accepted", "routed", "enqueued", "refused", "not-stored", "attempt", "relayed", "delivered", "failed", "reported"] as const;
export type HopKind = (typeof HOP_KINDS)[number];

export interface Hop {
  readonly hop: HopKind;
  /** When, in Unix milliseconds (fractions for sub-millisecond steps). */
  readonly at: number;
  /** How long the step took (attempts), in ms. */
  readonly durMs?: number;
  /** `host:pid` of the Parley process that recorded it. */
  readonly process?: string;
  readonly network?: string;
  readonly from?: string;
  readonly to?: string;
  readonly nativeIds?: readonly string[];
  readonly auth?: string;
  readonly via?: string;
  readonly policy?: string;
  readonly queue?: string;
  readonly attempt?: number;
  readonly outcome?: string;
  readonly failureClass?: string;
  readonly reason?: string;
  readonly code?: string;
  readonly detail?: string;
  readonly state?: string;
}

/** A message's recorded hops, oldest first. */
export interface MessageTrace {
  readonly id: string;
  readonly hops: readonly Hop[];
  /** Hops dropped from the middle because the trace reached its bound. */
  readonly truncated: boolean;
}

/** Now, in Unix milliseconds with sub-millisecond precision. */
export function nowMs(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000) / 1000;
}

export function encodeHop(hop: Hop): string {
  return JSON.stringify(hop);
}

const kinds: ReadonlySet<string> = new Set(HOP_KINDS);

/** A stored hop, or undefined when it is not one (a truncation marker, a foreign value). */
export function decodeHop(raw: string): Hop | undefined {
  try {
    const v = JSON.parse(raw) as unknown;
    if (typeof v !== "object" || v === null) return undefined;
    const h = v as { hop?: unknown; at?: unknown };
    if (typeof h.hop !== "string" || !kinds.has(h.hop) || typeof h.at !== "number") return undefined;
    return v as Hop;
  } catch {
    return undefined;
  }
}
