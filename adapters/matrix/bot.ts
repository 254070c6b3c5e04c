/**
 * The bridge bot (issue 4 step 6; DESIGN §4): the application service's own user DMs a Matrix
 * user for what Matrix has no native form for — subscription requests to answer with `approve`,
 * `deny` or `block`, outcomes of their own requests — and answers `watchers`, `revoke`, `watch`,
 * `unwatch` (a Matrix user asking to see someone's presence: Matrix has no subscribe of its own), `help`.
 * Decisions become canonical SubscriptionRequest events through ctx.accept (RFC 2779 5.1.5–5.1.10).
 *
 * State: `pending:<user>` → JSON {address: watcher endpoint} of requests awaiting an answer.
 */
import type { SubscriptionNotice } from "../../src/adapter/presence.js";
import { canonicalAddress, endpointKey, type Endpoint } from "../../src/model/address.js";
import type { SubscriptionAction } from "../../src/model/subscription.js";
import { fromNative } from "./address.js";
import { BLOCK_WORDS, blockCommand, contactOf } from "./bot-blocks.js";
import type { MatrixDeps } from "./deps.js";
import { classify } from "./errors.js";
import { localUserId, notice } from "./outbound.js";
import type { RoomRecord } from "./rooms.js";
import type { MatrixEvent, Plan } from "./types.js";

export const HELP = [
  "Parley bridge bot. Commands:",
  "  approve <address> — let them see your presence",
  "  deny <address> — refuse their request",
  "  block <address> — block them: their messages do not reach you, they see you offline, they are not told",
  "  unblock <address> — lift your block (\"unblock all\" lifts every one)",
  "  blocked — whom you block",
  "  watchers — who sees or asks to see your presence",
  "  revoke <address> — stop sharing your presence with them",
  "  watch <address> — ask to see their presence (network/address when the domain is not listed)",
  "  unwatch <address> — stop seeing their presence",
  "  help — this text",
].join("\n");

type Pending = Record<string, Endpoint>;

async function pendingOf(d: MatrixDeps, user: string): Promise<Pending> {
  const raw = await d.ctx.state.get(`pending:${user}`);
  return raw ? (JSON.parse(raw) as Pending) : {};
}

async function savePending(d: MatrixDeps, user: string, p: Pending): Promise<void> {
  if (Object.keys(p).length === 0) await d.ctx.state.delete(`pending:${user}`);
  else await d.ctx.state.set(`pending:${user}`, JSON.stringify(p));
}

const network = (e: Endpoint) => `${e.address} (${e.network})`;

export async function deliverSubscription(d: MatrixDeps, n: SubscriptionNotice): Promise<void> {
  const user = localUserId(d, n.to);
  const s = n.subscription;
  try {
    if (n.notice === "request") {
      const pending = await pendingOf(d, user);
      pending[s.watcher.address] = s.watcher;
      await savePending(d, user, pending);
      await notice(d, d.bot, user, `${network(s.watcher)} asks to see your presence. Answer "approve ${s.watcher.address}", "deny ${s.watcher.address}" or "block ${s.watcher.address}".`, { kind: "bot" });
      return;
    }
    const words: Record<typeof s.state, string> = {
      approved: "approved: you now see their presence",
      "politely-blocked": "approved: you now see their presence",
      denied: "denied",
      cancelled: "cancelled: you no longer see their presence",
      pending: "waiting for their answer",
    };
    await notice(d, d.bot, user, `Your subscription to ${network(s.presentity)} is ${words[s.state]}.`, { kind: "bot" });
  } catch (e) {
    throw classify(e, "telling a Matrix user about a subscription");
  }
}

async function resolveWatcher(d: MatrixDeps, user: string, me: Endpoint, arg: string | undefined): Promise<Endpoint | undefined> {
  const pending = await pendingOf(d, user);
  if (arg === undefined) {
    const all = Object.values(pending);
    return all.length === 1 ? all[0] : undefined;
  }
  let address: string;
  try {
    address = canonicalAddress(arg);
  } catch {
    return undefined;
  }
  if (pending[address]) return pending[address];
  const subs = await d.ctx.subscriptionsOf(me, "watchers");
  return subs.find((x) => x.watcher.address === address)?.watcher;
}

const ACTIONS: Record<string, SubscriptionAction> = { approve: "approve", deny: "deny", revoke: "revoke" };

/** A message in the bot's DM: a command. Decisions join the transaction's accept call. */
export async function handleBotMessage(d: MatrixDeps, plan: Plan, ev: MatrixEvent, rec: RoomRecord): Promise<void> {
  const body = typeof ev.content.body === "string" ? ev.content.body.trim() : "";
  const [word = "", arg] = body.split(/\s+/, 2).map((w, i) => (i === 0 ? w.toLowerCase() : w));
  const reply = (text: string) => plan.followups.push(() => notice(d, d.bot, rec.user, text, { kind: "bot" }));
  let me: Endpoint;
  try {
    me = fromNative(rec.user, d.ctx.mappings());
  } catch {
    return;
  }
  if (word === "watchers") {
    plan.followups.push(async () => {
      const subs = await d.ctx.subscriptionsOf(me, "watchers");
      const lines = subs.map((x) => `  ${network(x.watcher)}: ${x.state}`);
      await notice(d, d.bot, rec.user, lines.length ? `Your watchers:\n${lines.join("\n")}` : "Nobody watches your presence.", { kind: "bot" });
    });
    return;
  }
  if (word === "watch" || word === "unwatch") {
    askToWatch(d, plan, me, word, arg, reply);
    return;
  }
  if (BLOCK_WORDS.has(word)) {
    blockCommand(d, plan, me, word, arg, (text) => notice(d, d.bot, rec.user, text, { kind: "bot" }).then(() => undefined), (who) => approvePending(d, rec.user, me, who));
    return;
  }
  const action = ACTIONS[word];
  if (action === undefined) {
    reply(HELP);
    return;
  }
  const watcher = await resolveWatcher(d, rec.user, me, arg);
  if (!watcher) {
    reply(arg === undefined ? `Say whom: "${word} <address>".` : `There is no request or subscription from ${arg}.`);
    return;
  }
  plan.items.push({
    event: { kind: "subscription", request: {
      action, watcher, presentity: me, actor: me,
      authenticatedBy: { method: "network", detail: "application service hs_token" }, at: new Date().toISOString(),
    } },
    onResult: async (r) => {
      if (r.status === "refused") {
        reply(`Could not ${word} ${watcher.address}: ${r.error.message}`);
        return;
      }
      const pending = await pendingOf(d, rec.user);
      delete pending[watcher.address];
      await savePending(d, rec.user, pending);
      const done = { approve: "Approved", deny: "Denied", revoke: "Revoked" }[word] ?? "Done";
      reply(`${done}: ${network(watcher)}.`);
      d.log.info({ action, watcher: endpointKey(watcher) }, "subscription decision");
    },
  });
}

/** A pending request from a newly blocked party is approved: it then sees CLOSED only (5.1.15). */
async function approvePending(d: MatrixDeps, user: string, me: Endpoint, who: Endpoint): Promise<void> {
  const pending = await pendingOf(d, user);
  const watcher = pending[who.address];
  if (!watcher) return;
  await d.ctx.accept([{ kind: "subscription", request: {
    action: "approve", watcher, presentity: me, actor: me,
    authenticatedBy: { method: "network", detail: "application service hs_token" }, at: new Date().toISOString(),
  } }]);
  delete pending[who.address];
  await savePending(d, user, pending);
}

/** `watch` / `unwatch`: the Matrix user asks to see someone's presence, or stops (RFC 2779 5.1.6, 5.1.7). */
function askToWatch(d: MatrixDeps, plan: Plan, me: Endpoint, word: "watch" | "unwatch", arg: string | undefined, reply: (text: string) => void): void {
  if (arg === undefined) {
    reply(`Say whom: "${word} <address>".`);
    return;
  }
  const presentity = contactOf(d, arg);
  if (typeof presentity === "string") {
    reply(presentity);
    return;
  }
  plan.items.push({
    event: { kind: "subscription", request: {
      action: word === "watch" ? "request" : "cancel", watcher: me, presentity, actor: me,
      authenticatedBy: { method: "network", detail: "application service hs_token" }, at: new Date().toISOString(),
    } },
    onResult: async (r) => {
      if (r.status === "refused") reply(`Could not ${word} ${presentity.address}: ${r.error.message}`);
      else reply(word === "watch" ? `Asked ${network(presentity)} to share their presence.` : `You no longer see ${network(presentity)}.`);
    },
  });
}
