/**
 * The possible-loss notice after a link holder died (issue 10). XEP-0114 has no acknowledgements:
 * what the server wrote into a link holder's socket after that process died, and before the server
 * noticed, is lost, and the server reports nothing to its senders (measured: 1–4 stanzas per
 * conversation, sent 0–~330 ms after a `kill -9`). Parley cannot know which stanzas those were, but
 * it knows when: the dead holder renewed its journal last at `lastAliveMs` (journal.ts; every
 * `lease.renewMs`), and the new link came up at `linkUpMs`. So every XMPP user with bridged activity
 * through the link shortly before the death (recent-contacts.ts: they wrote to a puppet, a puppet
 * wrote to them, they came online to or asked to subscribe to a puppet) is told once, from the
 * component domain they were in contact with: messages sent in that window may not have been
 * delivered. It is a possible-loss notice, not a per-message report.
 *
 * The window starts {@link MARGIN_MS} before the last renewal: the server writes in order, so
 * everything it wrote before the last stanza the dead process read and journaled was read (and
 * journaled); the process was alive at its last renewal, but bytes in its socket buffer then may
 * not have been read yet (its event loop runs behind under load), and a client's send time runs
 * ahead of the server's write by the client → server path. Told: each user active in the
 * {@link RECENT_MS} before the last renewal, or after it (a lost stanza's sender, when the dead
 * holder read an earlier one: a chat state, say). Not told, because Parley never saw them: a user
 * whose first stanza through the link in minutes (or ever) is the one that was lost. Once per dead
 * holder (a key set only by the first claimant), paced at {@link PER_SECOND}/s and capped at
 * {@link CAP} (the most recent first; the rest counted in the log), in the language the user last
 * wrote in (English when unknown).
 */
import { xml, type ComponentLink } from "./connection.js";
import type { AdapterStateStore } from "../../src/adapter/state.js";
import type { Logger } from "../../src/log/logger.js";
import { errorMessage } from "../../src/errors/message.js";
import type { DeadHolder } from "./journal.js";
import { RECENT_CONTACTS } from "./recent-contacts.js";

export const MARGIN_MS = 2_000;
export const RECENT_MS = 120_000;
export const CAP = 10_000;
export const PER_SECOND = 200;
const DONE_TTL_S = 24 * 3600;

/** How many users were sent a crash notice by this process (tests, diagnostics). */
export const crashNoticeCounter = { sent: 0 };

function utc(ms: number): { date: string; time: string } {
  const iso = new Date(ms).toISOString();
  return { date: iso.slice(0, 10), time: iso.slice(11, 23) };
}

/** The notice's text in `lang` (its primary subtag), English when Parley has no text in that language. */
export function noticeText(lang: string, fromMs: number, toMs: number): { lang: string; text: string } {
  const a = utc(fromMs);
  const b = utc(toMs);
  const when = `${a.time} and ${b.time} UTC (${a.date})`;
  switch (lang.toLowerCase().split("-")[0]) {
    case "de":
      return { lang: "de", text: `Parley (das Gateway zu Matrix und E-Mail) wurde unerwartet beendet. Nachrichten, die Sie zwischen ${a.time} und ${b.time} UTC (${a.date}) an Matrix- oder E-Mail-Kontakte gesendet haben, wurden möglicherweise nicht zugestellt; bitte senden Sie sie erneut.` };
    case "fr":
      return { lang: "fr", text: `Parley (la passerelle vers Matrix et le courriel) s'est arrêté de façon inattendue. Les messages envoyés à des contacts Matrix ou courriel entre ${a.time} et ${b.time} UTC (${a.date}) n'ont peut-être pas été remis ; merci de les renvoyer.` };
    case "es":
      return { lang: "es", text: `Parley (la pasarela a Matrix y al correo) se detuvo inesperadamente. Es posible que los mensajes enviados a contactos de Matrix o de correo entre ${a.time} y ${b.time} UTC (${a.date}) no se hayan entregado; envíelos de nuevo.` };
    default:
      return { lang: "en", text: `Parley (the gateway to Matrix and email) stopped unexpectedly. Messages you sent to Matrix or email contacts between ${when} may not have been delivered; please send them again.` };
  }
}

export interface NoticeDeps {
  readonly state: AdapterStateStore;
  readonly link: Pick<ComponentLink, "send">;
  readonly log: Logger;
  /** Component domains this process serves (a recorded domain no longer served is replaced by the first). */
  readonly domains: ReadonlySet<string>;
  readonly sleep?: (ms: number) => Promise<void>;
  /** `parley_crash_notices_total` (AdapterContext.counter). */
  readonly counted?: { inc(n?: number): void };
}

/** Tell the recent contacts of each dead holder; resolves with how many were told. */
export async function sendCrashNotices(deps: NoticeDeps, died: readonly DeadHolder[], linkUpMs: number): Promise<number> {
  let told = 0;
  for (const d of died) {
    try {
      told += await noticeOne(deps, d, linkUpMs);
    } catch (e) {
      deps.log.warn({ journal: d.holder, err: errorMessage(e) }, "crash notice not sent");
    }
  }
  return told;
}

/**
 * Rows newest first (a member per user, domain and language) → per user the domain of the latest
 * row and the latest language known (an outbound record has none); the first users are the most
 * recent, so the cap keeps those.
 */
function usersOf(rows: ReadonlyArray<readonly [string, number]>): Map<string, { domain: string; lang: string }> {
  const byUser = new Map<string, { domain: string; lang: string }>();
  for (const [member] of rows) {
    const [jid = "", domain = "", lang = ""] = member.split(" ");
    if (!jid) continue;
    const seen = byUser.get(jid);
    if (!seen) byUser.set(jid, { domain, lang });
    else if (!seen.lang && lang) seen.lang = lang;
  }
  return byUser;
}

async function noticeOne(deps: NoticeDeps, d: DeadHolder, linkUpMs: number): Promise<number> {
  const { state, log } = deps;
  if (!state.recentRange) return 0;
  // Without a recorded renewal (an older version's registry entry), the window is the last RECENT_MS.
  const alive = d.lastAliveMs ?? linkUpMs - RECENT_MS;
  const fromMs = alive - MARGIN_MS;
  // Once per dead holder, whichever process claims its journal first.
  if (!(await state.setIfAbsent(`crash-notice:${d.holder}`, String(linkUpMs), DONE_TTL_S))) return 0;
  const rows = await state.recentRange(RECENT_CONTACTS, alive - RECENT_MS, linkUpMs, CAP * 4);
  const byUser = usersOf(rows);
  const users = [...byUser];
  const capped = users.slice(0, CAP);
  const first = [...deps.domains][0] ?? "";
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let sent = 0;
  let tried = 0;
  for (const [jid, { domain, lang }] of capped) {
    const from = deps.domains.has(domain) ? domain : first;
    const t = noticeText(lang, fromMs, linkUpMs);
    try {
      await deps.link.send(xml("message", { type: "chat", from, to: jid, id: `parley-crash-${d.holder.replace(/[^A-Za-z0-9]/g, "")}`, "xml:lang": t.lang }, xml("body", {}, t.text)));
      sent++;
      crashNoticeCounter.sent++;
      deps.counted?.inc();
    } catch (e) {
      log.warn({ to: jid, err: errorMessage(e) }, "crash notice not sent to a user");
    }
    if (++tried % PER_SECOND === 0) await sleep(1_000);
  }
  log.warn({
    event: "crash-notice", journal: d.holder, windowFrom: new Date(fromMs).toISOString(), windowTo: new Date(linkUpMs).toISOString(),
    told: sent, recentContacts: users.length, notTold: users.length - sent,
  }, "previous link holder died: its recent contacts were told that messages in the window may not have been delivered");
  return sent;
}
