/**
 * Who had bridged activity through the component link lately (issue 10): the people the crash
 * notice (crash-notice.ts) tells after a link holder died. XEP-0114 has no acks, so a stanza the
 * server wrote into a dead holder's socket is lost unseen; its sender may be someone Parley never
 * saw send before (a first reply). Recording only senders missed them; recorded here is every XMPP
 * user whose activity makes a message to a puppet plausible in the next minutes:
 *
 * - inbound: any message to a puppet or a component domain (a body, a chat state such as
 *   "composing", a receipt or marker — not an error), and presence to a puppet that says they are
 *   there or want to be: available (directed, or their server's broadcast to a subscribed puppet)
 *   and subscription requests/approvals; not `unavailable`, not probes, not errors;
 * - outbound: every message a puppet delivered to them (they may answer it).
 *
 * Not recorded: stanzas of linked MUC rooms (a room is not someone to tell; its members are on
 * the room's server), and presence subscriptions as such — a user online for hours with a puppet
 * in their roster has no recent activity and is not told.
 *
 * Cost and bound: one ZADD per (user, component domain, language) at most every
 * {@link REWRITE_MS} per process (a bounded in-memory map decides), issued in the turn that saw the
 * stanza; the set is trimmed to {@link RECENT_KEEP_MS} by the link holder every 10 s, so it holds
 * the users active in the last 5 minutes. The member is `<bare JID> <component domain> <xml:lang>`
 * (the language empty when unknown: an outbound message does not say the user's).
 */
import type { AdapterStateStore } from "../../src/adapter/state.js";
import type { XmlElement } from "./connection.js";

/** The sorted set (score = last activity, ms). Its name predates the outbound and presence records: an older process's records are read too. */
export const RECENT_CONTACTS = "recent-senders";
/** How long {@link RECENT_CONTACTS} keeps a user (trimmed by the link holder). */
export const RECENT_KEEP_MS = 5 * 60_000;
/** A member seen again within this is not written again (its score is at most this old). */
export const REWRITE_MS = 5_000;
const MAX_REMEMBERED = 10_000;
const TRIM_EVERY_MS = 10_000;

function bare(jid: string | undefined): string {
  return (jid ?? "").split("/")[0]!.toLowerCase();
}

function domainOf(jid: string | undefined): string {
  const b = bare(jid);
  return b.slice(b.indexOf("@") + 1);
}

/** Whether an inbound stanza is activity of its sender with a puppet (see the module comment). */
export function isContactActivity(el: XmlElement): boolean {
  if (!el.attrs.from?.includes("@")) return false;
  if (el.name === "message") return el.attrs.type !== "error";
  if (el.name !== "presence" || !el.attrs.to?.includes("@")) return false;
  const type = el.attrs.type;
  return type === undefined || type === "subscribe" || type === "subscribed";
}

export class RecentContacts {
  /** member → when this process last wrote it. */
  private readonly written = new Map<string, number>();
  private lastTrim = 0;

  constructor(private readonly state: AdapterStateStore) {}

  /** An inbound stanza just read from the link (call in the turn that parsed it). */
  inbound(el: XmlElement, now = Date.now()): void {
    if (!isContactActivity(el)) return;
    const lang = (el.attrs["xml:lang"] ?? "").replace(/\s+/g, "").slice(0, 16);
    this.saw(el.attrs.from!, domainOf(el.attrs.to), lang, now);
  }

  /** A puppet of `componentDomain` wrote to `user`. */
  outbound(user: string, componentDomain: string, now = Date.now()): void {
    this.saw(user, componentDomain.toLowerCase(), "", now);
  }

  /** On the link holder's lease tick: drop users not active for {@link RECENT_KEEP_MS}. */
  async trim(now = Date.now()): Promise<void> {
    if (!this.state.recentTrim || now - this.lastTrim < TRIM_EVERY_MS) return;
    this.lastTrim = now;
    await this.state.recentTrim(RECENT_CONTACTS, now - RECENT_KEEP_MS).catch(() => undefined);
  }

  private saw(jid: string, componentDomain: string, lang: string, now: number): void {
    if (!this.state.recentAdd) return;
    const member = `${bare(jid)} ${componentDomain} ${lang}`;
    const last = this.written.get(member);
    if (last !== undefined && now - last < REWRITE_MS) return;
    if (this.written.size >= MAX_REMEMBERED) this.written.clear(); // bounded: at worst one more write each
    this.written.set(member, now);
    this.state.recentAdd(RECENT_CONTACTS, member, now).catch(() => this.written.delete(member));
  }
}
