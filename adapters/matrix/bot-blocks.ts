/**
 * The bridge bot's `block`, `unblock` and `blocked` (issue 15): a Matrix user's own block list,
 * the core's canonical one (`ctx.blocks`, src/adapter/blocks.ts), so it holds whatever network
 * the blocked party writes from. Polite (RFC 2779 5.1.15): the blocked party's messages get the
 * neutral "policy" answer and it sees the user's presence as CLOSED; a request it has pending is
 * answered "approved" and shows it CLOSED only. An application service cannot read a real user's
 * `m.ignored_user_list` (account data is the user's own), so the bot is the Matrix way to block.
 */
import { errorMessage } from "../../src/errors/message.js";
import { asNetworkId, canonicalAddress, domainOf, type Endpoint } from "../../src/model/address.js";
import { fromNative } from "./address.js";
import type { MatrixDeps } from "./deps.js";
import type { Plan } from "./types.js";

export const BLOCK_WORDS = new Set(["block", "unblock", "blocked"]);

const show = (e: Endpoint) => `${e.address} (${e.network})`;

/** `@puppet:server`, `network/local@domain`, or `local@domain` of a listed domain. */
export function contactOf(d: MatrixDeps, arg: string): Endpoint | string {
  try {
    if (arg.startsWith("@")) return fromNative(arg, d.ctx.mappings());
    const slash = arg.indexOf("/");
    if (slash > 0 && slash < arg.indexOf("@")) return { network: asNetworkId(arg.slice(0, slash)), address: canonicalAddress(arg.slice(slash + 1)) };
    const address = canonicalAddress(arg);
    const home = d.ctx.mappings().domains.get(domainOf(address))?.home;
    return home ? { network: home, address } : `${domainOf(address)} is not a listed domain: say which network, e.g. "xmpp/${address}".`;
  } catch (e) {
    return errorMessage(e);
  }
}

/**
 * Run a block-list command. `approvePending` answers a pending request from the newly blocked
 * party "approved" (it will only ever see CLOSED), so the request does not linger.
 */
export function blockCommand(
  d: MatrixDeps, plan: Plan, me: Endpoint, word: string, arg: string | undefined,
  tell: (text: string) => Promise<void>, approvePending: (who: Endpoint) => Promise<void>,
): void {
  const reply = (text: string) => plan.followups.push(() => tell(text));
  const blocks = d.ctx.blocks;
  if (!blocks) {
    reply("Blocking is not available on this gateway.");
    return;
  }
  if (word === "blocked") {
    plan.followups.push(async () => {
      const list = await blocks.list(me);
      await tell(list.length ? `You block:\n${list.map((e) => `  ${show(e)}`).join("\n")}` : "You block nobody.");
    });
    return;
  }
  if (arg === undefined) {
    reply(word === "unblock" ? `Say whom: "unblock <address>", or "unblock all".` : `Say whom: "block <address>".`);
    return;
  }
  if (word === "unblock" && arg.toLowerCase() === "all") {
    plan.followups.push(async () => { await blocks.unblock(me, "all"); await tell("You block nobody now."); });
    return;
  }
  const who = contactOf(d, arg);
  if (typeof who === "string") {
    reply(who);
    return;
  }
  plan.followups.push(async () => {
    try {
      if (word === "block") {
        await blocks.block(me, [who]);
        await approvePending(who);
        await tell(`Blocked: ${show(who)}. They are not told; their messages do not reach you and they see you offline.`);
      } else {
        await blocks.unblock(me, [who]);
        await tell(`Unblocked: ${show(who)}.`);
      }
      d.log.info({ action: word }, "block list command");
    } catch (e) {
      d.log.warn({ action: word, err: errorMessage(e) }, "block list command failed");
      await tell(`Could not ${word} ${who.address}: try again later.`);
    }
  });
}
