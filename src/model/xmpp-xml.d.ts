/**
 * The subset of `@xmpp/xml` (ltx, xmpp.js 0.13, untyped CommonJS) that Parley touches: the core's
 * XML (src/model/xml.ts, PIDF) and the XMPP adapter both use it, so its types live in the core,
 * which the adapter may import from and never the other way round.
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
