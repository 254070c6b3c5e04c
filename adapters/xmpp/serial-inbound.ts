/**
 * XMPP inbound, one task at a time per conversation (keys never block each other), and the halt at
 * a graceful stop (issue 10): tasks not started yet are skipped — their stanzas stay in the inbound
 * journal for the next link holder, which replays them before its own — and the ones running finish.
 */
export class SerialInbound {
  private readonly chains = new Map<string, Promise<void>>();
  private tasksDone = 0;
  private halted = false;
  private running = 0;

  /** Run `task` after every earlier task of the same key (never, once {@link halt} was called). */
  run(key: string, task: () => Promise<void>): void {
    const prev = this.chains.get(key) ?? Promise.resolve();
    const guarded = async () => {
      if (this.halted) return; // left to the journal's next holder
      this.running++;
      try {
        await task();
      } finally {
        this.running--;
      }
    };
    const next = prev.then(guarded, guarded).finally(() => {
      this.tasksDone += 1;
      if (this.chains.get(key) === next) this.chains.delete(key);
    });
    this.chains.set(key, next);
  }

  /** Tasks running now (started, not finished). */
  get inFlight(): number { return this.running; }

  /**
   * Start no more tasks; resolve once the running ones finished, or after `ms` (then returns how
   * many still run: their stanzas are replayed by the next holder and recognised as duplicates).
   */
  async halt(ms: number): Promise<number> {
    this.halted = true;
    await settleWithin(Promise.all([...this.chains.values()]), ms);
    return this.running;
  }

  /** Take tasks again (a process that holds the link anew after a halt). */
  resume(): void { this.halted = false; }

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
