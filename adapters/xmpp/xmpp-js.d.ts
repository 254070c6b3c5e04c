/**
 * The subset of xmpp.js (0.13, untyped CommonJS) this adapter touches. Only connection.ts and
 * bounds.ts import these modules; everything else sees {@link XmlElement} through them. The types
 * of `@xmpp/xml` itself are declared in the core (src/model/xmpp-xml.d.ts), which parses PIDF with it.
 */
declare module "@xmpp/component-core" {
  import type xml from "@xmpp/xml";
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- exported through componentCore below
  class Component {
    constructor(options: { service: string; domain: string });
    status: string;
    options: { service: string; domain: string; lang?: string };
    start(): Promise<void>;
    stop(): Promise<void>;
    connect(service: string): Promise<void>;
    open(options: { domain: string; lang?: string }): Promise<void>;
    disconnect(timeout?: number): Promise<void>;
    authenticate(id: string, password: string): Promise<void>;
    send(el: xml.Element): Promise<void>;
    write(s: string): Promise<void>;
    on(event: string, listener: (...args: never[]) => void): this;
    removeAllListeners(event?: string): this;
    /** Internal: feed bytes from the socket into the parser (overridden by bounds.ts). */
    _onData(data: Buffer): void;
    _onElement(el: xml.Element): void;
    parser: xml.Parser | null;
    socket: { destroy(): void; setNoDelay(noDelay?: boolean): void } | null;
  }
  const componentCore: { Component: typeof Component };
  export = componentCore;
}
