/**
 * XMPP inbound, one task at a time per conversation (keys never block each other), and the wait at
 * a graceful stop until everything read from the link is stored (issue 10).
 */
export class SerialInbound {
  private readonly chains = new Map<string, Promise<void>>();
  private tasksDone = 0;

  /** Run `task` after every earlier task of the same key. */
  run(key: string, task: () => Promise<void>): void {
    const prev = this.chains.get(key) ?? Promise.resolve();
    const next = prev.then(task, task).finally(() => {
      this.tasksDone += 1;
      if (this.chains.get(key) === next) this.chains.delete(key);
    });
    this.chains.set(key, next);
  }

  /**
   * Wait until every task ran, however long the backlog under load, as long as it progresses.
   * Returns the number of conversations still waiting after `stallMs` without one task finishing
   * (0 when all ran). A fixed cap here dropped a loaded process's unstored backlog silently.
   */
  async drain(stallMs: number): Promise<number> {
    while (this.chains.size > 0) {
      const doneBefore = this.tasksDone;
      await settleWithin(Promise.all([...this.chains.values()]), stallMs);
      if (this.chains.size > 0 && this.tasksDone === doneBefore) return this.chains.size;
    }
    return 0;
  }
}

/** Wait for `p` (its failure included) at most `ms`. */
export async function settleWithin(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p.catch(() => undefined), new Promise((r) => { timer = setTimeout(r, ms); })]);
  clearTimeout(timer);
}
