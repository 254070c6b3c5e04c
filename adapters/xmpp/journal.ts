/**
 * The raw inbound journal (issue 10). XEP-0114 has no acknowledgements: whatever the server wrote
 * to the component socket is Parley's alone once read, and a process killed before storing it lost
 * it without a report. So every stanza handed up from the link is written at once, in the same
 * turn of the event loop that parsed it, to this process's journal in Redis (one HSET, field = a
 * sequence number, value = the stanza's XML), and removed once handled (accepted, refused and
 * answered, or dropped). The loss on a `kill -9` is then bounded by what was still in the kernel's
 * receive buffer or in flight to Redis (one round trip), however far behind the handling runs.
 *
 * Each journal belongs to one process (`holder`) and is registered in the map `inbound-journals`;
 * the process keeps a lease `inbound-journal:<holder>` on it, renewed with the link lease (first,
 * so it lapses before the link lease does). A process that takes the link over claims every
 * journal whose lease lapsed (its holder died, or stopped without finishing) by acquiring that
 * lease itself, and hands its entries to the handling, in their original order, before its own link
 * starts; so per conversation the replayed stanzas come before the new ones. A graceful stop hands
 * its journal over (`handOver`: marked `handover`, lease released before the link lease) with what
 * it did not handle, so the next holder replays that first, with no crash notice. A journal marked
 * `draining` (its holder lost the link and is working off what it read) is left to its holder as
 * long as that lease is renewed, and claimed only when it lapses. A replay is recognised by the core's
 * native-id claims (the stanza `id` scoped to the full JID, the origin-id; a journal key for a
 * message with neither), so an entry handled before the crash but not yet removed is a duplicate,
 * never a second message (README, "What can be lost in the instant of a kill").
 */
import { mapEntries, type AdapterStateStore } from "../../src/adapter/state.js";
import type { Logger } from "../../src/log/logger.js";
import { errorMessage } from "../../src/errors/message.js";
import { parseXml } from "../../src/model/xml.js";
import type { XmlElement } from "./connection.js";

/**
 * The registry of journals: holder → "live@<ms>" | "draining@<ms>" | "handover@<ms>", the time its holder last
 * renewed it (a dead holder's last known-alive time: crash-notice.ts). A bare status (older
 * versions) reads as "never renewed".
 */
export const JOURNALS = "inbound-journals";

/** A journal whose holder died while its link was up (registered `live`): claimed by this process. */
export interface DeadHolder {
  readonly holder: string;
  /** Its last lease renewal (it was alive then), or undefined when it never recorded one. */
  readonly lastAliveMs: number | undefined;
}

function parseRegistry(value: string): { status: string; atMs: number | undefined } {
  const at = value.indexOf("@");
  if (at < 0) return { status: value, atMs: undefined };
  const ms = Number(value.slice(at + 1));
  return { status: value.slice(0, at), atMs: Number.isFinite(ms) ? ms : undefined };
}

export const journalName = (holder: string): string => `inbound-journal:${holder}`;
const SEQ_WIDTH = 12;

/** A stanza in a journal; `done()` removes it (after its write settled, whichever finishes first). */
export interface JournalEntry {
  readonly el: XmlElement;
  /** `<holder>:<seq>`: unique per journaled stanza, the same on a replay. */
  readonly key: string;
  done(): Promise<void>;
}

const keys = new WeakMap<XmlElement, string>();
/** The journal key of a stanza being handled (undefined when it was not journaled). */
export function journalKeyOf(el: XmlElement): string | undefined { return keys.get(el); }

export class InboundJournal {
  private seq = 0;
  private status: "closed" | "live" | "draining" = "closed";
  /** Given up to the next link holder at a graceful stop ({@link handOver}): never renewed again. */
  private handedOver = false;
  private outstanding = 0;
  private opened = false;
  private drainTimer: NodeJS.Timeout | undefined;
  /** Journals of other holders this process claimed and is replaying: holder → entries left. */
  private readonly claimed = new Map<string, number>();
  private died: DeadHolder[] = [];

  constructor(
    private readonly state: AdapterStateStore,
    readonly holder: string,
    private readonly ttlMs: number,
    private readonly log: Logger,
  ) {}

  /** Stanzas written and not yet handled (this process's own). */
  get pending(): number { return this.outstanding; }

  /** Before the link starts: take this process's journal lease and register it as live. */
  async open(): Promise<void> {
    this.opened = true;
    this.handedOver = false;
    clearInterval(this.drainTimer);
    this.drainTimer = undefined;
    this.status = "live";
    await this.renew();
  }

  /**
   * Renew the lease on this process's journal (while it is open or has entries) and on the journals
   * it replays. The adapter calls it on every lease tick before renewing the link lease.
   */
  async renew(): Promise<void> {
    if (this.handedOver) return;
    if (this.status !== "closed" || this.outstanding > 0) {
      await this.state.lease(journalName(this.holder), this.holder, this.ttlMs);
      if (this.handedOver) { // handed over meanwhile (a stop during this renewal): let go again
        await this.state.releaseLease(journalName(this.holder), this.holder);
        return;
      }
      await this.state.mapSet(JOURNALS, this.holder, `${this.status === "closed" ? "draining" : this.status}@${Date.now()}`);
    }
    for (const h of this.claimed.keys()) await this.state.lease(journalName(h), this.holder, this.ttlMs);
  }

  /**
   * The link stopped (a graceful stop, or the link lease lost): no more appends. The journal stays
   * this process's, renewed by a timer of its own every `renewMs`, while it stores what it read;
   * {@link close} gives it up.
   */
  drain(renewMs: number): void {
    if (this.status !== "live") return;
    this.status = "draining";
    this.drainTimer = setInterval(() => { this.renew().catch(() => undefined); }, renewMs);
    this.drainTimer.unref();
    this.renew().catch(() => undefined);
  }

  /**
   * A graceful stop, once the link is closed and the handling halted (serial-inbound.ts): what was
   * read and not handled stays here, and the next link holder replays it before its own stanzas —
   * so a conversation's earlier messages are never overtaken by later ones the successor reads.
   * The journal is marked `handover@<ms>` (its holder stopped reading with the link closed: nothing
   * was lost unseen, no crash notice) and its lease, and those of the dead holders' journals this
   * process was replaying, released at once, so the successor claims them without waiting. Empty,
   * it is simply unregistered. Returns the stanzas left for the successor.
   */
  async handOver(): Promise<number> {
    clearInterval(this.drainTimer);
    this.drainTimer = undefined;
    this.status = "closed";
    if (!this.opened || this.handedOver) return 0;
    const left = this.outstanding;
    this.handedOver = true; // before any await: a renewal under way must not mark it live again
    try {
      if (left === 0) {
        await this.state.mapDelete(JOURNALS, this.holder);
      } else {
        await this.state.mapSet(JOURNALS, this.holder, `handover@${Date.now()}`);
        this.log.info({ stanzas: left }, "inbound stanzas not handled here: left in the journal for the next link holder, which replays them first");
      }
      await this.state.releaseLease(journalName(this.holder), this.holder);
      for (const h of this.claimed.keys()) await this.state.releaseLease(journalName(h), this.holder).catch(() => undefined);
      this.claimed.clear();
    } catch (e) {
      this.log.warn({ err: errorMessage(e) }, "inbound journal not handed over; its lease lapses and the next link holder replays it then");
    }
    return left;
  }

  /** Everything read was handled (or given up): unregister when empty, so nobody replays it. */
  async close(): Promise<void> {
    clearInterval(this.drainTimer);
    this.drainTimer = undefined;
    this.status = "closed";
    if (!this.opened || this.handedOver) return;
    if (this.outstanding > 0) {
      this.log.error({ stanzas: this.outstanding }, "inbound journal closed with stanzas not handled: the next link holder replays them");
      return;
    }
    try {
      await this.state.mapDelete(JOURNALS, this.holder);
      await this.state.releaseLease(journalName(this.holder), this.holder);
    } catch (e) {
      this.log.warn({ err: errorMessage(e) }, "inbound journal not unregistered; the next link holder finds it empty");
    }
  }

  /** Write a stanza just read from the link (call in the turn that parsed it). */
  append(el: XmlElement): JournalEntry {
    let raw: string;
    try {
      raw = el.toString();
    } catch (e) {
      // ltx serialises recursively: a hostile, deeply nested stanza overflows the stack. It is
      // handled unjournaled (never thrown into the link's parser).
      this.log.warn({ err: errorMessage(e), stanza: el.name, id: el.attrs.id }, "inbound stanza not journaled: not serialisable");
      return { el, key: "", done: async () => undefined };
    }
    const seq = ++this.seq;
    const field = String(seq).padStart(SEQ_WIDTH, "0");
    const key = `${this.holder}:${seq}`;
    keys.set(el, key);
    this.outstanding++;
    const written = this.state.mapSet(journalName(this.holder), field, raw).then(() => true, (e: unknown) => {
      // Redis is down: the handling fails the same way and answers the sender "try later".
      this.log.warn({ err: errorMessage(e), stanza: el.name, id: el.attrs.id }, "inbound stanza not journaled");
      return false;
    });
    let removed = false;
    return {
      el, key,
      done: async () => {
        if (removed) return;
        removed = true;
        if (await written) {
          await this.state.mapDelete(journalName(this.holder), field)
            .catch((e: unknown) => this.log.warn({ err: errorMessage(e) }, "journal entry not removed (a replay is recognised as a duplicate)"));
        }
        this.outstanding--;
      },
    };
  }

  /**
   * Claim every registered journal whose holder's lease lapsed and return its entries, oldest
   * first (journal by journal). A journal registered `live` whose lease is still held is waited for
   * up to `waitMs`: its holder just died (it renews this lease before the link lease, so the lease
   * lapses within moments), or it is cut off from Redis. One that is `draining` is left to its
   * holder while it renews. Call it with the link lease held, before the link starts, and again on
   * later ticks.
   */
  async claimOrphans(waitMs = 0): Promise<JournalEntry[]> {
    if (this.handedOver) return [];
    const deadline = Date.now() + waitMs;
    const out: JournalEntry[] = [];
    let waiting = await this.registered();
    for (;;) {
      const stillLive = new Map<string, string>();
      for (const [h, value] of waiting) {
        if (h === this.holder || this.claimed.has(h)) continue;
        const { status } = parseRegistry(value);
        if (!(await this.state.lease(journalName(h), this.holder, this.ttlMs))) {
          if (status === "live") stillLive.set(h, value);
          continue;
        }
        // Read again now that it is ours: a graceful stop marks it `handover` just before it lets go.
        const current = await this.state.mapGet(JOURNALS, h);
        if (current === undefined) { // closed by its holder meanwhile: nothing to replay
          await this.state.releaseLease(journalName(h), this.holder).catch(() => undefined);
          continue;
        }
        const now = parseRegistry(current);
        // Its holder died with the link up (a graceful stop marks it draining or handover first): what
        // the server wrote into the dead socket is lost unseen; its recent senders are told (crash-notice.ts).
        if (now.status === "live") this.died.push({ holder: h, lastAliveMs: now.atMs });
        try {
          out.push(...(await this.take(h)));
        } catch (e) {
          this.claimed.delete(h); // its lease lapses again; claimed on a later call
          this.log.warn({ journal: h, err: errorMessage(e) }, "inbound journal not read; tried again later");
        }
      }
      if (stillLive.size === 0 || Date.now() >= deadline) return out;
      await new Promise((r) => setTimeout(r, 50));
      waiting = stillLive;
    }
  }

  /** The dead holders claimed since the last call (each reported once by this process). */
  takeDied(): DeadHolder[] {
    const d = this.died;
    this.died = [];
    return d;
  }

  private async registered(): Promise<Map<string, string>> {
    const all = new Map<string, string>();
    for await (const [h, s] of mapEntries(this.state, JOURNALS, 100)) all.set(h, s);
    return all;
  }

  /** Read a claimed journal; each entry's `done` removes it, the last one unregisters the journal. */
  private async take(h: string): Promise<JournalEntry[]> {
    const name = journalName(h);
    this.claimed.set(h, Number.POSITIVE_INFINITY); // renewed from now on, never taken twice
    const fields = new Map<string, string>();
    for await (const [f, v] of mapEntries(this.state, name)) fields.set(f, v);
    const sorted = [...fields].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const entries: JournalEntry[] = [];
    for (const [field, raw] of sorted) {
      let el: XmlElement;
      try {
        el = parseXml(raw);
      } catch (e) {
        this.log.error({ journal: h, field, err: errorMessage(e) }, "journaled stanza unreadable; dropped");
        await this.state.mapDelete(name, field).catch(() => undefined);
        continue;
      }
      const key = `${h}:${Number(field)}`;
      keys.set(el, key);
      let removed = false;
      entries.push({
        el, key,
        done: async () => {
          if (removed) return;
          removed = true;
          await this.state.mapDelete(name, field).catch((e: unknown) => this.log.warn({ err: errorMessage(e) }, "journal entry not removed (a replay is recognised as a duplicate)"));
          const left = (this.claimed.get(h) ?? 1) - 1;
          this.claimed.set(h, left);
          if (left <= 0) await this.release(h);
        },
      });
    }
    if (entries.length === 0) {
      await this.release(h);
      return entries;
    }
    this.log.warn({ journal: h, stanzas: entries.length }, "inbound journal of a process that stopped without handling everything: replaying it");
    this.claimed.set(h, entries.length);
    return entries;
  }

  private async release(h: string): Promise<void> {
    this.claimed.delete(h);
    try {
      await this.state.mapDelete(JOURNALS, h);
      await this.state.releaseLease(journalName(h), this.holder);
    } catch (e) {
      this.log.warn({ journal: h, err: errorMessage(e) }, "replayed journal not unregistered; found empty later");
    }
  }
}
