/**
 * The external ledger of the chaos test: what each real client sent, whether its network took it
 * (acked), and what the receiving clients saw — copies, and reports of failure back to senders.
 * Nothing here reads Parley's own state: every figure is measured from outside.
 */
export type Direction = "m2x" | "x2m" | "x2e";

interface Entry {
  readonly direction: Direction;
  readonly sentAt: number;
  acked: boolean;
  copies: number;
  firstSeenAt: number | undefined;
  reported: boolean;
}

export interface Figures {
  readonly sent: number;
  readonly acked: number;
  readonly delivered: number;
  readonly lostOfAcked: number;
  readonly reported: number;
  readonly silent: number;
  readonly visibleDuplicates: number;
  /** The longest wait from send to first copy among acked messages (ms): how long a conversation stood still. */
  readonly stallMs: number;
}

export class Ledger {
  private readonly entries = new Map<string, Entry>();

  /** A client sent `text` (a unique token); `acked` when its own server accepted it at once. */
  sent(text: string, direction: Direction, acked: boolean): void {
    this.entries.set(text, { direction, sentAt: Date.now(), acked, copies: 0, firstSeenAt: undefined, reported: false });
  }

  ack(text: string): void {
    const e = this.entries.get(text);
    if (e) e.acked = true;
  }

  /** A receiving client saw one more copy of `text`. */
  seen(text: string, at = Date.now()): void {
    const e = this.entries.get(text);
    if (!e) return;
    e.copies++;
    e.firstSeenAt ??= at;
  }

  /** For sources counted by scanning (the mailbox): the total copies seen so far. */
  setCopies(text: string, copies: number, at = Date.now()): void {
    const e = this.entries.get(text);
    if (!e || copies <= e.copies) return;
    e.copies = copies;
    e.firstSeenAt ??= at;
  }

  /** The sender was told `text` did not get through (a stanza error, a notice, a bounce). */
  reported(text: string): void {
    const e = this.entries.get(text);
    if (e) e.reported = true;
  }

  texts(prefix: string): string[] {
    return [...this.entries.keys()].filter((t) => t.startsWith(prefix));
  }

  /** Every acked message under `prefix` delivered or reported. */
  settled(prefix: string): boolean {
    return this.texts(prefix).every((t) => { const e = this.entries.get(t)!; return !e.acked || e.copies > 0 || e.reported; });
  }

  figures(prefix: string, direction?: Direction): Figures {
    const es = this.texts(prefix).map((t) => this.entries.get(t)!).filter((e) => direction === undefined || e.direction === direction);
    const acked = es.filter((e) => e.acked);
    const lost = acked.filter((e) => e.copies === 0);
    return {
      sent: es.length,
      acked: acked.length,
      delivered: acked.length - lost.length,
      lostOfAcked: lost.length,
      reported: es.filter((e) => e.reported).length,
      silent: lost.filter((e) => !e.reported).length,
      visibleDuplicates: es.reduce((n, e) => n + Math.max(0, e.copies - 1), 0),
      stallMs: acked.reduce((m, e) => (e.firstSeenAt === undefined ? m : Math.max(m, e.firstSeenAt - e.sentAt)), 0),
    };
  }
}

export function figureLine(fault: string, f: Figures, extra: Record<string, number | string> = {}): string {
  const more = Object.entries(extra).map(([k, v]) => ` ${k}=${v}`).join("");
  return `[chaos] ${fault}: sent=${f.sent} acked=${f.acked} lost_of_acked=${f.lostOfAcked} silent=${f.silent} reported=${f.reported} visible_duplicates=${f.visibleDuplicates} stall_ms=${f.stallMs}${more}`;
}
