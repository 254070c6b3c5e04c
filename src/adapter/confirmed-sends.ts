/**
 * Sends the peer confirmed on this process (issue 10, duplicates), for adapters whose delivery is
 * done only once the core writes the job's `sent` marker — and whose own bookkeeping after the
 * send may write to Redis too. When such a write fails (Redis killed or cut off), the job runs
 * again once Redis is back and used to send a second time: a duplicate the user saw (measured:
 * `kill -9` of Redis, Matrix → XMPP and XMPP → email). A re-run usually lands on the same process
 * (the XMPP link has one holder; a queue has one owner, src/delivery/ownership.ts), so the process
 * remembers what its peer confirmed and does not send it again. In memory on purpose: it must work
 * while Redis is what failed. What it cannot cover — the process dying between the confirmation
 * and the marker, or a re-run on another process — is sent again, with the same network id
 * (XMPP `id`/origin-id, the Message-ID) so a deduping client shows it once.
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
