/**
 * A list's subscribed mailboxes (issue 12 §5), in the adapter's durable store — never in memory,
 * so every Parley process sees the same members. One JSON array per list, changed under a short
 * lease so two subscriptions at once cannot lose one another.
 */
import { randomUUID } from "node:crypto";
import type { AdapterStateStore } from "../../../src/adapter/state.js";
import { canonicalAddress } from "../../../src/model/address.js";

/** The most mailboxes one list holds; a subscription beyond it is refused (bounded state). */
export const MAX_LIST_MEMBERS = 10_000;
const LOCK_TTL_MS = 5_000;
const LOCK_TRIES = 100;

/** One mailbox as a member key: domain lower-cased by canonicalAddress, local part lower-cased too (lists match loosely). */
export function memberKey(address: string): string {
  return canonicalAddress(address.replace(/^mailto:/i, "")).toLowerCase();
}

export type MembershipResult = "added" | "already" | "removed" | "absent" | "full";

export class ListMembers {
  constructor(private readonly store: AdapterStateStore) {}

  private key(list: string): string {
    return `list:${list.toLowerCase()}:members`;
  }

  async all(list: string): Promise<string[]> {
    const raw = await this.store.get(this.key(list));
    return raw === undefined ? [] : (JSON.parse(raw) as string[]);
  }

  async has(list: string, address: string): Promise<boolean> {
    return (await this.all(list)).includes(memberKey(address));
  }

  async add(list: string, address: string): Promise<MembershipResult> {
    const who = memberKey(address);
    return this.change(list, (members) => {
      if (members.includes(who)) return ["already", members];
      if (members.length >= MAX_LIST_MEMBERS) return ["full", members];
      return ["added", [...members, who].sort()];
    });
  }

  async remove(list: string, address: string): Promise<MembershipResult> {
    const who = memberKey(address);
    return this.change(list, (members) => (members.includes(who) ? ["removed", members.filter((m) => m !== who)] : ["absent", members]));
  }

  private async change(list: string, f: (members: string[]) => [MembershipResult, string[]]): Promise<MembershipResult> {
    const lock = `list-lock:${list.toLowerCase()}`;
    const holder = randomUUID();
    for (let i = 0; !(await this.store.lease(lock, holder, LOCK_TTL_MS)); i++) {
      if (i >= LOCK_TRIES) throw new Error(`the member list of ${list} is busy`);
      await new Promise((r) => setTimeout(r, 20));
    }
    try {
      const [result, next] = f(await this.all(list));
      if (result === "added" || result === "removed") await this.store.set(this.key(list), JSON.stringify(next));
      return result;
    } finally {
      await this.store.releaseLease(lock, holder);
    }
  }
}
