/**
 * Rate limits the core offers adapters as `ctx.limits` (issue 14): counted in Redis, so every
 * ingress process of one deployment shares them (an SMTP listener behind MX on two hosts sees one
 * sender's mail as one stream). An adapter names a bucket (`smtp-sender`, `smtp-ip`) and a key;
 * the verdict says whether the event may pass and, if not, how long the sender should wait. The
 * adapter answers a refusal in its network's own "slow down" (SMTP 451 4.7.1 / 421 4.7.0).
 */
export interface RateVerdict {
  readonly allowed: boolean;
  /** When refused: milliseconds until one more event would pass (0 when allowed). */
  readonly retryAfterMs: number;
}

export interface RateRule {
  /** Sustained events per minute. */
  readonly perMinute: number;
  /** Events that may pass at once before the sustained rate applies (default: perMinute). */
  readonly burst?: number;
}

export interface RatePort {
  /** Count one event of `key` in `bucket` (scoped to the adapter's network) under `rule`. */
  take(bucket: string, key: string, rule: RateRule): Promise<RateVerdict>;
}
