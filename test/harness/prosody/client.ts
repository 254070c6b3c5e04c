/**
 * A real XMPP client (@xmpp/client) logged in to a harness Prosody, for the e2e tests and the demo:
 * it answers roster pushes (STACK.md: Prosody sends them only after a roster request, and the
 * client must answer them) and keeps what it receives in an {@link Inbox} to wait on.
 */
import { client, type XmppClient } from "@xmpp/client";
import xml from "@xmpp/xml";
import type { ProsodyCoordinates } from "./prosody.js";

export type Stanza = xml.Element;
export { xml };

/** Waits on stanzas a client receives: each `next` consumes the first match, past or future. */
export class Inbox {
  readonly seen: Stanza[] = [];
  private waiters: Array<{ match: (s: Stanza) => boolean; resolve: (s: Stanza) => void }> = [];

  push(s: Stanza): void {
    const w = this.waiters.find((x) => x.match(s));
    if (w) {
      this.waiters.splice(this.waiters.indexOf(w), 1);
      w.resolve(s);
    } else this.seen.push(s);
  }

  next(match: (s: Stanza) => boolean, timeoutMs = 10_000, what = "stanza"): Promise<Stanza> {
    const i = this.seen.findIndex(match);
    if (i >= 0) return Promise.resolve(this.seen.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const w = { match, resolve: (s: Stanza) => { clearTimeout(timer); resolve(s); } };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        const recent = this.seen.slice(-5).map((x) => x.toString().slice(0, 400)).join("\n");
        reject(new Error(`no ${what} within ${timeoutMs} ms${recent ? `; last unmatched stanzas:\n${recent}` : ""}`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }
}

export interface XmppTestUser {
  readonly jid: string;
  readonly bare: string;
  readonly xmpp: XmppClient;
  readonly inbox: Inbox;
  send(el: Stanza): Promise<void>;
  stop(): Promise<void>;
}

/** Log in as a pre-registered user of the Prosody at `c`, request the roster, send presence. */
export async function connectXmppUser(c: ProsodyCoordinates, user: string, opts: { resource?: string; presence?: boolean } = {}): Promise<XmppTestUser> {
  const password = c.users[user];
  if (password === undefined) throw new Error(`${user} is not a user of this Prosody`);
  const x = client({ service: `xmpp://${c.host}:${c.c2sPort}`, domain: c.userDomain, username: user, password, resource: opts.resource ?? "test" });
  x.on("error", () => undefined);
  const inbox = new Inbox();
  x.on("stanza", (s: Stanza) => {
    if (s.is("iq") && s.attrs.type === "set" && s.getChild("query", "jabber:iq:roster")) {
      void x.send(xml("iq", { type: "result", id: s.attrs.id, to: s.attrs.from }));
      return;
    }
    inbox.push(s);
  });
  const address = await x.start();
  await x.iqCaller.request(xml("iq", { type: "get" }, xml("query", { xmlns: "jabber:iq:roster" })));
  if (opts.presence !== false) await x.send(xml("presence"));
  const jid = address.toString();
  return {
    jid, bare: jid.split("/")[0]!, xmpp: x, inbox,
    send: (el) => x.send(el),
    async stop() { x.reconnect.stop(); await x.stop().catch(() => undefined); },
  };
}
