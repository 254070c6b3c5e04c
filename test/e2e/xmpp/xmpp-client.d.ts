/** The subset of @xmpp/client 0.13 (untyped) the e2e tests use. */
declare module "@xmpp/client" {
  import type xml from "@xmpp/xml";
  interface XmppClient {
    start(): Promise<{ toString(): string }>;
    stop(): Promise<void>;
    send(el: xml.Element): Promise<void>;
    write(s: string): Promise<void>;
    on(event: "stanza", listener: (el: xml.Element) => void): this;
    on(event: "error", listener: (err: Error) => void): this;
    on(event: string, listener: (...args: never[]) => void): this;
    reconnect: { stop(): void };
    iqCaller: { request(el: xml.Element, timeout?: number): Promise<xml.Element> };
    jid: { toString(): string } | null;
  }
  export function client(options: { service: string; domain: string; username: string; password: string; resource?: string }): XmppClient;
}
