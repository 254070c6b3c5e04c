/**
 * `parley email list subscribe|unsubscribe LINK MAILBOX` and `parley email list members LINK`: the
 * admin's side of a linked room's list (issue 12 §5). The same store and the same rules as a
 * subscription by mail ({@link ListMembers}: one member set per list, at most MAX_LIST_MEMBERS);
 * no confirmation is asked or mailed — the admin is trusted, and the CLI sends no mail.
 */
import { parseArgs } from "node:util";
import type { AdapterCommand, CommandOutput } from "../../../src/adapter/declarations.js";
import type { DomainMappings } from "../../../src/mappings/types.js";
import { errorMessage } from "../../../src/errors/message.js";
import { EMAIL, fromNative } from "../address.js";
import type { EmailConfig } from "../config.js";
import { MAX_LIST_MEMBERS, ListMembers, memberKey } from "./members.js";

const USAGE_TAIL = "subscribe|unsubscribe LINK MAILBOX | members LINK [--config FILE]";
const USAGE = `usage: parley email list ${USAGE_TAIL}`;

const fail = (...lines: string[]): CommandOutput => ({ exitCode: 1, lines });

/** The list address of a link, or what to print when the link is unknown or has no list. */
export function listOfLink(mappings: DomainMappings, link: string): string | CommandOutput {
  const room = mappings.rooms?.byLinkName(link);
  if (!room) {
    const names = mappings.rooms?.all().map((r) => r.name) ?? [];
    return fail(`parley: no room link "${link}" in the mappings (rooms: ${names.length > 0 ? names.join(", ") : "none"})`);
  }
  const list = room.natives.get(EMAIL)?.id;
  if (!list) return fail(`parley: the room link "${link}" has no list address: give it one as rooms.${link}.email in the mappings (${room.source.file}:${room.source.line})`);
  return list;
}

/** A mailbox that may be a member: a well-formed address whose home is email (not a chat user's mail form). */
export function memberAddress(mappings: DomainMappings, raw: string): string | CommandOutput {
  let address: string;
  try {
    address = memberKey(raw);
    if (address.includes('"') || address.split("@").length !== 2 || /[\s<>(),;:\\[\]]/.test(address)) throw new Error("not a plain address local@domain");
  } catch (e) {
    return fail(`parley: "${raw}" is not a mailbox address (${errorMessage(e)})`);
  }
  let home: string;
  try {
    home = fromNative(address, mappings).network;
  } catch (e) {
    return fail(`parley: "${raw}" is not a mailbox address (${errorMessage(e)})`);
  }
  if (home !== EMAIL) return fail(`parley: ${address} is how a ${home} user appears by mail, not a mailbox: only mailboxes are list members`);
  return address;
}

export const listCommand: AdapterCommand<EmailConfig> = {
  name: "list",
  usage: USAGE_TAIL,
  summary: "a linked room's list: add or remove a member (no confirmation mail), show the members",
  async run(args, ctx) {
    let parsed;
    try {
      parsed = parseArgs({ args: [...args], options: { config: { type: "string" } }, allowPositionals: true });
    } catch (e) {
      return { exitCode: 2, lines: [`parley: ${errorMessage(e)}`, USAGE] };
    }
    const [action, link, mailbox, ...extra] = parsed.positionals;
    const shapeOk = extra.length === 0 && link !== undefined && (action === "members" ? mailbox === undefined : (action === "subscribe" || action === "unsubscribe") && mailbox !== undefined);
    if (!shapeOk) return { exitCode: 2, lines: [USAGE] };
    return ctx.withState(parsed.values.config, async ({ mappings, state }) => {
      const list = listOfLink(mappings, link);
      if (typeof list !== "string") return list;
      const members = new ListMembers(state);
      if (action === "members") {
        const all = await members.all(list);
        return { exitCode: 0, lines: [`${list} (room link ${link}): ${all.length} member${all.length === 1 ? "" : "s"}`, ...all.map((m) => `  ${m}`)] };
      }
      const address = memberAddress(mappings, mailbox!);
      if (typeof address !== "string") return address;
      if (action === "subscribe") {
        const r = await members.add(list, address);
        if (r === "full") return fail(`parley: ${list} is full (${MAX_LIST_MEMBERS} members): ${address} not added`);
        return { exitCode: 0, lines: [r === "added" ? `subscribed ${address} to ${list} (no confirmation mail is sent)` : `${address} was already a member of ${list}`] };
      }
      const r = await members.remove(list, address);
      return { exitCode: 0, lines: [r === "removed" ? `unsubscribed ${address} from ${list} (no mail is sent)` : `${address} was not a member of ${list}`] };
    });
  },
};
