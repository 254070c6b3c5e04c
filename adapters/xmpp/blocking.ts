/**
 * XEP-0191 Blocking Command on the component domain: a user's blocks of bridged contacts, kept
 * as the core's canonical block list (`ctx.blocks`, src/adapter/blocks.ts) so they hold for every
 * network and are enforced before anything is queued.
 *
 * A client sends XEP-0191 to its own server, and Prosody's mod_blocklist enforces that list itself
 * (it bounces a blocked puppet's messages with `service-unavailable` and drops its presence):
 * Parley cannot read it. Addressed to the component (`to='matrix.gw.example.org'`), the same
 * commands edit Parley's list instead: `<blocklist/>` (get), `<block/>` and `<unblock/>` (set),
 * with a push (§3.3 / §3.4) to every resource of the user that asked for the list.
 */
import { errorMessage } from "../../src/errors/message.js";
import { randomBytes } from "node:crypto";
import type { Endpoint } from "../../src/model/address.js";
import { fromNative, parseJid, toNative, XMPP } from "./address.js";
import { xml, type XmlElement } from "./connection.js";
import { drop, replyError, type XmppRuntime } from "./stanza.js";

export const NS_BLOCKING = "urn:xmpp:blocking";
const MAX_ITEMS = 1000;
/** Resources that asked for their block list, by bare JID (for pushes); bounded, oldest dropped. */
const MAX_INTERESTED = 10_000;

export class BlockingCommand {
  private readonly interested = new Map<string, Set<string>>();

  constructor(private readonly rt: XmppRuntime) {}

  /** Whether `child` is a blocking command this module answers. */
  static handles(child: XmlElement): boolean {
    return child.attrs.xmlns === NS_BLOCKING && ["blocklist", "block", "unblock"].includes(child.name);
  }

  async handle(el: XmlElement, child: XmlElement): Promise<void> {
    const { rt } = this;
    const blocks = rt.ctx.blocks;
    if (!blocks) {
      await replyError(rt, el, { type: "cancel", condition: "service-unavailable", text: "blocking is not available on this gateway" });
      return;
    }
    const owner = this.ownerOf(el);
    if (!owner) return;
    const type = el.attrs.type;
    if (type === "get" && child.name === "blocklist") {
      this.remember(owner.bare, el.attrs.from!);
      const list = await blocks.list(owner.endpoint);
      await this.result(el, xml("blocklist", { xmlns: NS_BLOCKING }, ...this.items(list)));
      return;
    }
    if (type !== "set" || child.name === "blocklist") {
      await replyError(rt, el, { type: "modify", condition: "bad-request", text: "blocklist is a get; block and unblock are sets (XEP-0191 §3)" });
      return;
    }
    const items = child.getChildren("item");
    if (items.length > MAX_ITEMS) {
      await replyError(rt, el, { type: "modify", condition: "policy-violation", text: `at most ${MAX_ITEMS} items in one command` });
      return;
    }
    const who: Endpoint[] = [];
    for (const item of items) {
      const contact = this.contactOf(item.attrs.jid);
      if (typeof contact === "string") {
        await replyError(rt, el, { type: "modify", condition: "jid-malformed", text: contact });
        return;
      }
      who.push(contact);
    }
    if (child.name === "block" && who.length === 0) {
      await replyError(rt, el, { type: "modify", condition: "bad-request", text: "block names at least one item (XEP-0191 §3.3)" });
      return;
    }
    if (child.name === "block") await blocks.block(owner.endpoint, who);
    else await blocks.unblock(owner.endpoint, who.length === 0 ? "all" : who);
    await this.result(el);
    await this.push(owner.bare, el.attrs.from!, el.attrs.to!, xml(child.name, { xmlns: NS_BLOCKING }, ...this.items(who)));
  }

  /** The sender as a canonical XMPP endpoint; spoofs and non-XMPP senders are dropped. */
  private ownerOf(el: XmlElement): { endpoint: Endpoint; bare: string } | undefined {
    try {
      const j = parseJid(el.attrs.from ?? "");
      if (this.rt.domains.has(j.domain) || j.local === "") throw new Error("not a user of the XMPP server");
      const endpoint = fromNative(el.attrs.from!, this.rt.ctx.mappings());
      if (endpoint.network !== XMPP) throw new Error("not an XMPP user");
      return { endpoint, bare: `${j.local}@${j.domain}` };
    } catch (e) {
      drop(this.rt, el, `blocking command from ${errorMessage(e)}`);
      return undefined;
    }
  }

  /** A blocked contact: a bridged JID (puppet) or any user JID; a reason when it is neither. */
  private contactOf(jid: string | undefined): Endpoint | string {
    if (!jid) return "an item needs a jid";
    try {
      if (parseJid(jid).local === "") return `${jid.slice(0, 200)}: blocking a whole domain is not supported here`;
      return fromNative(jid, this.rt.ctx.mappings());
    } catch (e) {
      return `${jid.slice(0, 200)}: ${errorMessage(e)}`;
    }
  }

  private items(list: readonly Endpoint[]): XmlElement[] {
    const m = this.rt.ctx.mappings();
    return list.map((e) => xml("item", { jid: toNative(e, m) }));
  }

  private async result(el: XmlElement, ...children: XmlElement[]): Promise<void> {
    await this.rt.link.send(xml("iq", { type: "result", id: el.attrs.id, from: el.attrs.to, to: el.attrs.from }, ...children));
  }

  private remember(bare: string, full: string): void {
    let set = this.interested.get(bare);
    if (!set) {
      if (this.interested.size >= MAX_INTERESTED) this.interested.delete(this.interested.keys().next().value!);
      this.interested.set(bare, (set = new Set()));
    }
    if (set.size < 64) set.add(full);
  }

  /** §3.3/§3.4: the change to every resource that asked for the list, and to the one that made it. */
  private async push(bare: string, sender: string, service: string, change: XmlElement): Promise<void> {
    const targets = new Set([...(this.interested.get(bare) ?? []), sender]);
    for (const to of targets) {
      const id = `push-${randomBytes(6).toString("hex")}`;
      await this.rt.link.send(xml("iq", { type: "set", id, to, from: service }, change)).catch((e: unknown) =>
        this.rt.log.warn({ err: errorMessage(e) }, "blocklist push not sent"));
    }
  }
}
