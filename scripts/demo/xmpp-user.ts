/**
 * A real XMPP client (@xmpp/client) for the demo, logged in to the demo's Prosody. The e2e
 * tier's `connectUser` reads its coordinates from vitest's `inject`, which a plain script cannot
 * use; this is the same client with the coordinates passed in. It answers roster pushes (STACK.md:
 * Prosody sends them only after a roster request) and lets the script wait for stanzas.
 */
import { client, type XmppClient } from "@xmpp/client";
import xml from "@xmpp/xml";
import type { ProsodyCoordinates } from "../../test/harness/prosody/prosody.js";

export type Stanza = xml.Element;
export { xml };

export class DemoXmppUser {
  private readonly seen: Stanza[] = [];
  private waiters: Array<{ match: (s: Stanza) => boolean; resolve: (s: Stanza) => void }> = [];
  private constructor(readonly jid: string, readonly xmpp: XmppClient) {}

  get bare(): string { return this.jid.split("/")[0]!; }

  static async connect(c: ProsodyCoordinates, user: string, resource = "demo"): Promise<DemoXmppUser> {
    const password = c.users[user];
    if (password === undefined) throw new Error(`${user} is not a user of the demo's Prosody`);
    const x = client({ service: `xmpp://${c.host}:${c.c2sPort}`, domain: c.userDomain, username: user, password, resource });
    x.on("error", () => undefined);
    const pending: Stanza[] = [];
    const box: { user?: DemoXmppUser } = {};
    x.on("stanza", (s: Stanza) => {
      if (s.is("iq") && s.attrs.type === "set" && s.getChild("query", "jabber:iq:roster")) {
        void x.send(xml("iq", { type: "result", id: s.attrs.id, to: s.attrs.from }));
        return;
      }
      if (box.user) box.user.push(s); else pending.push(s);
    });
    const address = await x.start();
    const self = new DemoXmppUser(address.toString(), x);
    box.user = self;
    for (const s of pending) self.push(s);
    await x.iqCaller.request(xml("iq", { type: "get" }, xml("query", { xmlns: "jabber:iq:roster" })));
    await x.send(xml("presence"));
    return self;
  }

  private push(s: Stanza): void {
    const w = this.waiters.find((x) => x.match(s));
    if (w) {
      this.waiters.splice(this.waiters.indexOf(w), 1);
      w.resolve(s);
    } else this.seen.push(s);
  }

  /** The first stanza (already received or arriving) that matches; it is consumed. */
  next(match: (s: Stanza) => boolean, timeoutMs: number, what: string): Promise<Stanza> {
    const i = this.seen.findIndex(match);
    if (i >= 0) return Promise.resolve(this.seen.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const w = { match, resolve: (s: Stanza) => { clearTimeout(timer); resolve(s); } };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        const recent = this.seen.slice(-3).map((x) => x.toString().slice(0, 300)).join(" | ");
        reject(new Error(`no ${what} within ${timeoutMs} ms${recent ? `; last unmatched stanzas: ${recent}` : ""}`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  send(el: Stanza): Promise<void> { return this.xmpp.send(el); }

  async stop(): Promise<void> {
    this.xmpp.reconnect.stop();
    await this.xmpp.stop().catch(() => undefined);
  }
}
