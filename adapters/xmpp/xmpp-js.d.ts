/**
 * The subset of xmpp.js (0.13, untyped CommonJS) this adapter touches. Only connection.ts and
 * bounds.ts import these modules; everything else sees {@link XmlElement} through them.
 */
declare module "@xmpp/xml" {
  namespace xml {
    type Child = Element | string | number | null | undefined | false | readonly Child[];
    interface Element {
      name: string;
      attrs: Record<string, string | undefined>;
      children: Array<Element | string>;
      parent: Element | null;
      is(name: string, xmlns?: string): boolean;
      getNS(): string | undefined;
      getChild(name: string, xmlns?: string): Element | undefined;
      getChildren(name: string, xmlns?: string): Element[];
      getChildElements(): Element[];
      getChildText(name: string, xmlns?: string): string | null;
      text(): string;
      append(...children: Child[]): Element;
      toString(): string;
    }
    const Element: new (name: string, attrs?: Record<string, string | undefined>) => Element;
    class Parser {
      constructor();
      write(data: string): void;
      on(event: "element" | "start" | "end", listener: (el: Element) => void): this;
      on(event: "error", listener: (err: Error) => void): this;
    }
  }
  function xml(name: string, attrs?: Record<string, string | undefined> | null, ...children: xml.Child[]): xml.Element;
  export = xml;
}

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
