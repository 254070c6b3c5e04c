/**
 * Retry timing for transient failures (DESIGN §3 "transient: retry with backoff"): exponential
 * from `baseMs`, capped at `capMs`, with "equal jitter" (half fixed, half random) so a burst of
 * failures against one destination does not come back as a synchronised burst.
 */
export interface RetryPolicy {
  /** Total tries including the first (≥ 1). */
  readonly attempts: number;
  readonly baseMs: number;
  readonly capMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 12, baseMs: 1000, capMs: 5 * 60_000 };

/** Delay before the retry that follows `attemptsMade` failed tries (1 after the first failure). */
export function backoffDelay(attemptsMade: number, policy: Pick<RetryPolicy, "baseMs" | "capMs">, random: () => number = Math.random): number {
  const n = Math.max(1, Math.floor(attemptsMade));
  const exp = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(n - 1, 30));
  return Math.round(exp / 2 + random() * (exp / 2));
}

/** The longest a job can spend in backoff before its final failure (jitter at its maximum). */
export function retryBudgetMs(policy: RetryPolicy): number {
  let total = 0;
  for (let n = 1; n < policy.attempts; n++) total += Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(n - 1, 30));
  return total;
}
