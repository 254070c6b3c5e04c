/**
 * Messages the XMPP server confirmed on this process (issue 10, duplicates). A delivery counts as
 * done only once the core wrote its `sent` marker, after the server's confirmation (outbound.ts,
 * the ping on the same stream). When that write fails — Redis killed or cut off — the job runs
 * again once Redis is back, and used to write the stanza a second time: a duplicate the user saw
 * (measured: `kill -9` of Redis, Matrix → XMPP). XMPP deliveries run only on the process holding
 * the link, so the re-run is usually here: this process remembers what the server confirmed and
 * does not write it again. In memory on purpose: it must work while Redis is what failed. What it
 * cannot cover — the process itself dying between the confirmation and the marker, or before the
 * confirmation — is resent by the next holder with the same `id` and origin-id (README, "What a
 * resend looks like").
 */
export const CONFIRMED_KEEP = 20_000;

export class ConfirmedSends {
  /** `<canonical id> <recipient>` → confirmed; oldest first (insertion order) for the bound. */
  private readonly seen = new Set<string>();

  constructor(private readonly keep = CONFIRMED_KEEP) {}

  has(messageId: string, to: string): boolean {
    return this.seen.has(`${messageId} ${to}`);
  }

  add(messageId: string, to: string): void {
    const key = `${messageId} ${to}`;
    this.seen.delete(key);
    this.seen.add(key);
    if (this.seen.size > this.keep) this.seen.delete(this.seen.values().next().value!);
  }
}
