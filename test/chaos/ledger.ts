/**
 * The external ledger of the chaos test: what each real client sent, whether its network took it
 * (acked), and what the receiving clients saw — copies, and reports of failure back to senders.
 * Nothing here reads Parley's own state: every figure is measured from outside.
 */
export type Direction = "m2x" | "x2m" | "x2e";

export interface Entry {
  readonly direction: Direction;
  readonly sentAt: number;
  acked: boolean;
  copies: number;
  firstSeenAt: number | undefined;
  reported: boolean;
  /** Per copy seen, the id it carried (an XMPP stanza id, a mail's Message-ID; "" when unknown). */
  readonly ids: string[];
}

export interface Figures {
  readonly sent: number;
  readonly acked: number;
  readonly delivered: number;
  readonly lostOfAcked: number;
  readonly reported: number;
  /**
   * Lost, not reported per message, but sent by an XMPP user inside the window of a crash notice
   * that user received (adapters/xmpp/crash-notice.ts: "messages sent between … may not have been
   * delivered"). A possible-loss notice, not a per-message error: printed apart from `reported`.
   */
  readonly reportedByNotice: number;
  readonly silent: number;
  readonly visibleDuplicates: number;
  /**
   * Of {@link visibleDuplicates}, the copies carrying the same id as an earlier copy (the XMPP
   * stanza id and origin-id, a mail's Message-ID): a client that dedupes on it shows one.
   */
  readonly sameIdDuplicates: number;
  /** The longest wait from send to first copy among acked messages (ms): how long a conversation stood still. */
  readonly stallMs: number;
}

/** A crash notice alice received: its window, parsed from its text. */
export interface CrashNotice { readonly at: number; readonly fromMs: number; readonly toMs: number }

const NOTICE_WINDOW = /between (\d\d:\d\d:\d\d\.\d{3}) and (\d\d:\d\d:\d\d\.\d{3}) UTC \((\d{4}-\d\d-\d\d)\)/;

/** The window of a crash notice's (English) text, or undefined when it is not one. */
export function parseNoticeWindow(body: string): { fromMs: number; toMs: number } | undefined {
  const m = body.match(NOTICE_WINDOW);
  if (!m || !/stopped unexpectedly/.test(body)) return undefined;
  const fromMs = Date.parse(`${m[3]}T${m[1]}Z`);
  let toMs = Date.parse(`${m[3]}T${m[2]}Z`);
  if (toMs < fromMs) toMs += 86_400_000; // the window crossed midnight
  return { fromMs, toMs };
}

export class Ledger {
  private readonly entries = new Map<string, Entry>();
  /** Crash notices the XMPP sender received (in arrival order). */
  readonly notices: CrashNotice[] = [];

  /** The XMPP sender received a crash notice with this window. */
  notice(fromMs: number, toMs: number, at = Date.now()): void {
    this.notices.push({ at, fromMs, toMs });
  }

  /** Lost and not reported, but inside a crash notice's window its XMPP sender received. */
  private byNotice(e: Entry): boolean {
    return e.direction !== "m2x" && this.notices.some((n) => e.sentAt >= n.fromMs && e.sentAt <= n.toMs);
  }

  /** Acked, never arrived, and its sender was told neither per message nor by a crash notice. */
  isSilent(e: Entry): boolean {
    return e.acked && e.copies === 0 && !e.reported && !this.byNotice(e);
  }

  /** A client sent `text` (a unique token); `acked` when its own server accepted it at once. */
  sent(text: string, direction: Direction, acked: boolean): void {
    this.entries.set(text, { direction, sentAt: Date.now(), acked, copies: 0, firstSeenAt: undefined, reported: false, ids: [] });
  }

  ack(text: string): void {
    const e = this.entries.get(text);
    if (e) e.acked = true;
  }

  /** A receiving client saw one more copy of `text`. */
  seen(text: string, at = Date.now(), id = ""): void {
    const e = this.entries.get(text);
    if (!e) return;
    e.copies++;
    e.ids.push(id);
    e.firstSeenAt ??= at;
  }

  /** For sources counted by scanning (the mailbox): the total copies seen so far. */
  setCopies(text: string, ids: readonly string[], at = Date.now()): void {
    const e = this.entries.get(text);
    if (!e || ids.length <= e.copies) return;
    e.copies = ids.length;
    e.ids.splice(0, e.ids.length, ...ids);
    e.firstSeenAt ??= at;
  }

  /** The sender was told `text` did not get through (a stanza error, a notice, a bounce). */
  reported(text: string): void {
    const e = this.entries.get(text);
    if (e) e.reported = true;
  }

  entry(text: string): Readonly<Entry> | undefined {
    return this.entries.get(text);
  }

  entriesOf(prefix: string): Readonly<Entry>[] {
    return this.texts(prefix).map((t) => this.entries.get(t)!);
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
      reportedByNotice: lost.filter((e) => !e.reported && this.byNotice(e)).length,
      silent: lost.filter((e) => this.isSilent(e)).length,
      visibleDuplicates: es.reduce((n, e) => n + Math.max(0, e.copies - 1), 0),
      sameIdDuplicates: es.reduce((n, e) => n + e.ids.filter((id, i) => id !== "" && e.ids.indexOf(id) < i).length, 0),
      stallMs: acked.reduce((m, e) => (e.firstSeenAt === undefined ? m : Math.max(m, e.firstSeenAt - e.sentAt)), 0),
    };
  }
}

/** Delivery timings of the acked, delivered messages under `prefix` in `direction`: for the e2e bench. */
export interface Timings {
  readonly delivered: number;
  /** Send → first copy (ms), ascending. */
  readonly latencies: readonly number[];
  /** First send → last first copy (ms). */
  readonly spanMs: number;
  /** Messages whose first copy arrived before an earlier-sent message's did. */
  readonly outOfOrder: number;
}

export function timings(ledger: Ledger, prefix: string, direction: Direction): Timings {
  const es = ledger.entriesOf(prefix).filter((e) => e.direction === direction && e.acked && e.firstSeenAt !== undefined);
  es.sort((a, b) => a.sentAt - b.sentAt);
  let outOfOrder = 0;
  let latest = 0;
  for (const e of es) { if (e.firstSeenAt! < latest) outOfOrder++; latest = Math.max(latest, e.firstSeenAt!); }
  const first = es[0]?.sentAt ?? 0;
  return { delivered: es.length, latencies: es.map((e) => e.firstSeenAt! - e.sentAt).sort((a, b) => a - b), spanMs: latest - first, outOfOrder };
}

/**
 * Arrivals out of the source room's order: `order` is the texts in the order the source network
 * put them (a Matrix room's stream order); an arrival counts when a text later in that order
 * arrived before it. Unlike {@link timings}' outOfOrder (by send time), this is the order a
 * gateway must keep when the source orders concurrent sends itself.
 */
export function outOfSourceOrder(ledger: Ledger, prefix: string, order: readonly string[]): number {
  const rank = new Map(order.filter((t) => t.startsWith(prefix)).map((t, i) => [t, i]));
  const arrived = ledger.texts(prefix).filter((t) => rank.has(t) && ledger.entry(t)!.firstSeenAt !== undefined)
    .sort((a, b) => ledger.entry(a)!.firstSeenAt! - ledger.entry(b)!.firstSeenAt!);
  let out = 0;
  let highest = -1;
  for (const t of arrived) { const r = rank.get(t)!; if (r < highest) { out++; if (process.env.BENCH_DEBUG) console.log(`inversion rank=${r} after=${highest} text=${t}`); } highest = Math.max(highest, r); }
  return out;
}

/** The sequence numbers (the token's last part) of the silent messages under `prefix` in `direction`, as ranges: "12-30,41". */
export function silentRanges(ledger: Ledger, prefix: string, direction: Direction): string {
  const ns = ledger.texts(prefix).filter((t) => { const e = ledger.entry(t)!; return e.direction === direction && ledger.isSilent(e); })
    .map((t) => Number(t.slice(t.lastIndexOf(":") + 1))).sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < ns.length;) {
    let j = i;
    while (j + 1 < ns.length && ns[j + 1] === ns[j]! + 1) j++;
    out.push(i === j ? `${ns[i]}` : `${ns[i]}-${ns[j]}`);
    i = j + 1;
  }
  return out.join(",") || "none";
}

/** When each silent message under `prefix` in `direction` was sent, in ms relative to `at` (a kill): "-180,-75,20". */
export function silentSentVs(ledger: Ledger, prefix: string, direction: Direction, at: number): string {
  const ms = ledger.entriesOf(prefix).filter((e) => e.direction === direction && ledger.isSilent(e))
    .map((e) => e.sentAt - at).sort((a, b) => a - b);
  return ms.join(",") || "none";
}

/** When each message counted by a crash notice under `prefix` in `direction` was sent, in ms relative to `at` (a kill). */
export function noticedSentVs(ledger: Ledger, prefix: string, direction: Direction, at: number): string {
  const ms = ledger.entriesOf(prefix).filter((e) => e.direction === direction && e.acked && e.copies === 0 && !e.reported && !ledger.isSilent(e))
    .map((e) => e.sentAt - at).sort((a, b) => a - b);
  return ms.join(",") || "none";
}

/** The duplicated messages under `prefix` in `direction`: "<seq>x<copies>@<sent vs at, ms>:same-id=<id>|new-id" each, e.g. "41x2@-35:same-id=parley-…". */
export function duplicatesVs(ledger: Ledger, prefix: string, direction: Direction, at: number | undefined): string {
  const out = ledger.texts(prefix).filter((t) => { const e = ledger.entry(t)!; return e.direction === direction && e.copies > 1; })
    .map((t) => { const e = ledger.entry(t)!; const again = e.ids.find((id, i) => id !== "" && e.ids.indexOf(id) < i);
      const same = again !== undefined ? `same-id=${again}` : "new-id"; return `${t.slice(t.lastIndexOf(":") + 1)}x${e.copies}${at === undefined ? "" : `@${e.sentAt - at}`}:${same}`; });
  return out.join(",") || "none";
}

export function figureLine(fault: string, f: Figures, extra: Record<string, number | string> = {}): string {
  const more = Object.entries(extra).map(([k, v]) => ` ${k}=${v}`).join("");
  return `[chaos] ${fault}: sent=${f.sent} acked=${f.acked} lost_of_acked=${f.lostOfAcked} silent=${f.silent} reported=${f.reported} reported_by_notice=${f.reportedByNotice} visible_duplicates=${f.visibleDuplicates} same_id_duplicates=${f.sameIdDuplicates} stall_ms=${f.stallMs}${more}`;
}
