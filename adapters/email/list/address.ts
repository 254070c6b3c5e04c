/**
 * A linked room's list address (RFC 2369 `List-Post`): a plain mailbox, domain lower-cased, and
 * the two command addresses beside it: `local+subscribe@domain` and `local+unsubscribe@domain`.
 */
import type { RoomAddressing } from "../../../src/adapter/rooms.js";
import { canonicalAddress } from "../../../src/model/address.js";

export function parseListAddress(native: string): string {
  const address = canonicalAddress(native.replace(/^mailto:/i, ""));
  if (address.includes('"') || address.split("@").length !== 2) throw new Error(`"${native}" is not a plain list address local@domain`);
  return address;
}

export const listRoomAddressing: RoomAddressing = {
  parseRoom: parseListAddress,
  roomAddress: (native) => canonicalAddress(parseListAddress(native)),
};

export type ListAction = "post" | "subscribe" | "unsubscribe";

export interface ListTarget {
  /** The list address as the mappings hold it. */
  readonly list: string;
  readonly action: ListAction;
}

const COMMANDS: ReadonlyArray<Exclude<ListAction, "post">> = ["subscribe", "unsubscribe"];

/**
 * Which list (and which of its addresses) an envelope recipient is; undefined when it is none.
 * `isList` answers whether a normalised address is a linked room's list address.
 */
export function listTarget(rcpt: string, isList: (address: string) => boolean): ListTarget | undefined {
  let address: string;
  try {
    address = parseListAddress(rcpt);
  } catch {
    return undefined;
  }
  if (isList(address)) return { list: address, action: "post" };
  const at = address.lastIndexOf("@");
  const local = address.slice(0, at);
  for (const action of COMMANDS) {
    const suffix = `+${action}`;
    if (!local.toLowerCase().endsWith(suffix)) continue;
    const list = `${local.slice(0, -suffix.length)}${address.slice(at)}`;
    if (isList(list)) return { list, action };
  }
  return undefined;
}

export function commandAddress(list: string, action: Exclude<ListAction, "post">): string {
  const at = list.lastIndexOf("@");
  return `${list.slice(0, at)}+${action}${list.slice(at)}`;
}

/** RFC 2919 list identifier: the list address with `@` turned into `.` (a dot-atom). */
export function listIdOf(list: string): string {
  return list.replace("@", ".").replace(/[^A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.]/g, "-").toLowerCase();
}

/**
 * The RFC 2369 / RFC 2919 header fields every list mail carries. With one-click on, each member's
 * copy gets its own `List-Unsubscribe` and `List-Unsubscribe-Post` (RFC 8058) over these (one-click.ts).
 */
export function listHeaders(list: string, name: string): Record<string, string> {
  return {
    "List-Id": `${name} <${listIdOf(list)}>`,
    "List-Post": `<mailto:${list}>`,
    "List-Subscribe": `<mailto:${commandAddress(list, "subscribe")}>`,
    "List-Unsubscribe": `<mailto:${commandAddress(list, "unsubscribe")}>`,
    "List-Help": `<mailto:${commandAddress(list, "subscribe")}?subject=help>`,
    Precedence: "list",
  };
}
