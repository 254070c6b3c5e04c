/**
 * Bounds on what reaches the XML parser (DESIGN §5; STACK.md "XML parsing"): ltx, under
 * `@xmpp/xml`, slows quadratically on a large text node fed in small reads, and it accepts XML
 * that XMPP forbids. {@link StanzaGuard} sits between the socket and the parser: it tokenises
 * the stream just enough to find each top-level element (stanza), buffers it, and hands the
 * parser only whole stanzas of at most `maxStanzaBytes`, in one write. It refuses, per stanza,
 * what RFC 6120 §11.1 forbids — comments, processing instructions, DOCTYPE and entity
 * declarations, entity references other than the five predefined ones and character
 * references — and CDATA sections (never produced by Prosody), plus malformed markup (mismatched
 * end tags, `<` in attribute values, text between stanzas). A refused stanza is skipped up to its
 * end tag and reported with its start tag (name, from, to, id, type) so the adapter can answer
 * with a stanza error; the stream itself stays up. Only a stream that cannot be resynchronised
 * (a refused stanza running past 4× the cap without ending) is reported as fatal.
 */
import { StringDecoder } from "node:string_decoder";

export type RejectReason = "too-large" | "restricted-xml" | "malformed";

/** The start tag of a top-level element, enough to address an error to its sender. */
export interface StanzaHead {
  readonly name: string;
  readonly attrs: Readonly<Record<string, string>>;
}

export type GuardEvent =
  | { readonly kind: "pass"; readonly text: string }
  | { readonly kind: "reject"; readonly reason: RejectReason; readonly detail: string; readonly head: StanzaHead | undefined; readonly bytes: number }
  | { readonly kind: "fatal"; readonly detail: string };

const NAME_START = /[A-Za-z_:\u00c0-\uffff]/;
const NAME_CHAR = /[A-Za-z0-9_:.\-\u00b7\u00c0-\uffff]/;
const ENTITY = /^(amp|lt|gt|quot|apos|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6})$/;
const HEAD_LIMIT = 8192;

type State =
  | "header" | "text" | "tagOpen" | "startName" | "inStartTag" | "attrValue" | "endTag" | "entity"
  | "skipUntil" | "doctype" | "bang";

/** XML 1.0 §2.2: whether a character reference (`#65`, `#x41`) names an allowed Char. */
function xmlChar(ref: string): boolean {
  const n = ref.startsWith("#x") ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
  return n === 0x9 || n === 0xa || n === 0xd || (n >= 0x20 && n <= 0xd7ff) || (n >= 0xe000 && n <= 0xfffd) || (n >= 0x10000 && n <= 0x10ffff);
}

function unescapeAttr(v: string): string {
  return v.replace(/&(amp|lt|gt|quot|apos);/g, (_m, e: string) => ({ amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" })[e] ?? "");
}

export function parseHead(text: string): StanzaHead | undefined {
  let end = 0;
  let quote = "";
  for (; end < text.length; end++) {
    const c = text[end]!;
    if (quote !== "") { if (c === quote) quote = ""; } else if (c === '"' || c === "'") quote = c; else if (c === ">") break;
  }
  const startTag = text.slice(0, end);
  const m = /^<([^\s/>]+)/.exec(startTag);
  if (!m) return undefined;
  const attrs: Record<string, string> = {};
  for (const a of startTag.matchAll(/([^\s=<>/"']+)\s*=\s*(["'])([^"']*?)\2/g)) attrs[a[1]!] = unescapeAttr(a[3]!);
  return { name: m[1]!, attrs };
}

export class StanzaGuard {
  private readonly decoder = new StringDecoder("utf8");
  private state: State = "header";
  private returnState: State = "text";
  /** Element names open inside the current stanza (the stanza itself first). */
  private stack: string[] = [];
  private name = "";
  private quote = "";
  private entity = "";
  private terminator = "";
  private doctypeDepth = 0;
  private bang = "";
  private selfClosing = false;
  private inEndTag = false;
  private buf: string[] = [];
  private bytes = 0;
  private head = "";
  private rejected: { reason: RejectReason; detail: string } | undefined;
  private out: GuardEvent[] = [];
  private headerBuf = "";

  constructor(private readonly maxStanzaBytes: number) {}

  private completed = false;
  /** After a fatal event nothing more is read: the connection must be reset. */
  private dead = false;
  private junkRun = false;
  /** True from the `<` of a top-level element until its end (or until a skipped construct ends). */
  private topLevelOpen = false;

  /** Feed raw bytes from the socket; returns what to do with them, in order. */
  push(chunk: Buffer | string): GuardEvent[] {
    const text = typeof chunk === "string" ? chunk : this.decoder.write(chunk);
    this.out = [];
    if (this.dead) return this.out;
    let segStart = this.topLevelOpen ? 0 : -1;
    for (let i = 0; i < text.length; i++) {
      const before = this.topLevelOpen;
      this.step(text[i]!);
      if (!before && this.topLevelOpen) segStart = i;
      if (this.completed) {
        this.appendStanza(text.slice(segStart, i + 1));
        this.finishStanza();
        segStart = -1;
      } else if (before && !this.topLevelOpen) {
        segStart = -1;
      }
    }
    if (this.topLevelOpen && segStart >= 0 && segStart < text.length) this.appendStanza(text.slice(segStart));
    return this.out;
  }

  private appendStanza(s: string): void {
    const n = Buffer.byteLength(s);
    this.bytes += n;
    if (this.head.length < HEAD_LIMIT) this.head += s.slice(0, HEAD_LIMIT - this.head.length);
    if (this.rejected) {
      if (this.rejected.reason !== "too-large" && this.bytes > 4 * this.maxStanzaBytes) {
        this.out.push({ kind: "fatal", detail: `a refused stanza ran past ${4 * this.maxStanzaBytes} bytes without ending` });
        this.dead = true;
      }
      return;
    }
    if (this.bytes > this.maxStanzaBytes) {
      this.reject("too-large", `stanza larger than ${this.maxStanzaBytes} bytes`);
      this.buf = [];
      return;
    }
    this.buf.push(s);
  }

  private finishStanza(): void {
    const head = parseHead(this.head);
    if (this.rejected) this.out.push({ kind: "reject", ...this.rejected, head, bytes: this.bytes });
    else this.out.push({ kind: "pass", text: this.buf.join("") });
    this.resetStanza();
  }

  private resetStanza(): void {
    this.buf = [];
    this.bytes = 0;
    this.head = "";
    this.rejected = undefined;
    this.completed = false;
    this.topLevelOpen = false;
    this.stack = [];
  }

  private reject(reason: RejectReason, detail: string): void {
    if (!this.rejected) this.rejected = { reason, detail };
  }

  /** Outside any stanza, a refused construct is reported without a head. */
  private rejectOutside(reason: RejectReason, detail: string): void {
    if (this.stack.length > 0) this.reject(reason, detail);
    else this.out.push({ kind: "reject", reason, detail, head: undefined, bytes: 0 });
  }

  private step(c: string): void {
    this.completed = false;
    // XML 1.0 §2.2 Char: no C0 controls but tab, LF, CR; no U+FFFE/U+FFFF.
    if ((c < " " && c !== "\t" && c !== "\n" && c !== "\r") || c === "\ufffe" || c === "\uffff") {
      if (this.state !== "header") this.rejectOutside("malformed", "a character XML does not allow");
      return;
    }
    switch (this.state) {
      case "header": return this.stepHeader(c);
      case "text": return this.stepText(c);
      case "tagOpen": return this.stepTagOpen(c);
      case "startName": return this.stepStartName(c);
      case "inStartTag": return this.stepInStartTag(c);
      case "attrValue": return this.stepAttrValue(c);
      case "endTag": return this.stepEndTag(c);
      case "entity": return this.stepEntity(c);
      case "bang": return this.stepBang(c);
      case "skipUntil": return this.stepSkipUntil(c);
      case "doctype": return this.stepDoctype(c);
    }
  }

  /** Before the stream header ends: pass everything through (the server's own header). */
  private stepHeader(c: string): void {
    this.headerBuf += c;
    if (c === ">" && this.headerBuf.includes("<stream:stream")) {
      if (/<!/.test(this.headerBuf)) {
        this.out.push({ kind: "fatal", detail: "DOCTYPE or comment before the stream header" });
      } else {
        this.out.push({ kind: "pass", text: this.headerBuf });
      }
      this.headerBuf = "";
      this.state = "text";
    } else if (this.headerBuf.length > HEAD_LIMIT) {
      this.out.push({ kind: "fatal", detail: "stream header too long" });
      this.headerBuf = "";
    }
  }

  private stepText(c: string): void {
    if (c === "<") {
      this.junkRun = false;
      this.state = "tagOpen";
      if (this.stack.length === 0) this.topLevelOpen = true;
      return;
    }
    if (this.stack.length === 0) {
      if (!/\s/.test(c) && !this.junkRun) {
        this.junkRun = true;
        this.rejectOutside("malformed", "text between stanzas");
      }
      return;
    }
    if (c === "&") {
      this.entity = "";
      this.returnState = "text";
      this.state = "entity";
    }
  }

  private stepTagOpen(c: string): void {
    if (c === "/") {
      this.name = "";
      this.inEndTag = true;
      this.state = "endTag";
    } else if (c === "!") {
      this.bang = "";
      this.state = "bang";
    } else if (c === "?") {
      this.rejectOutside("restricted-xml", "processing instruction (RFC 6120 §11.1)");
      this.terminator = "?>";
      this.bang = "";
      this.state = "skipUntil";
    } else if (NAME_START.test(c)) {
      this.name = c;
      this.state = "startName";
    } else {
      this.rejectOutside("malformed", "bad character after <");
      this.state = "text";
      if (this.stack.length === 0) this.topLevelOpen = false;
    }
  }

  private stepBang(c: string): void {
    if (/^[A-Z]+$/.test(this.bang) && /\s/.test(c)) {
      // <!DOCTYPE, <!ENTITY, <!ELEMENT …: RFC 6120 §11.1 forbids DTDs and entity declarations.
      this.rejectOutside("restricted-xml", `<!${this.bang.slice(0, 16)} (RFC 6120 §11.1: no DTDs or entity declarations)`);
      this.doctypeDepth = 0;
      this.state = "doctype";
      return;
    }
    this.bang += c;
    if (this.bang === "--") {
      this.rejectOutside("restricted-xml", "comment (RFC 6120 §11.1)");
      this.terminator = "-->";
      this.bang = "";
      this.state = "skipUntil";
    } else if (this.bang === "[CDATA[") {
      this.rejectOutside("restricted-xml", "CDATA section");
      this.terminator = "]]>";
      this.bang = "";
      this.state = "skipUntil";
    } else if (!"--".startsWith(this.bang) && !"[CDATA[".startsWith(this.bang) && !/^[A-Z]{1,16}$/.test(this.bang)) {
      this.rejectOutside("malformed", "bad markup declaration");
      this.state = "text";
      if (this.stack.length === 0) this.topLevelOpen = false;
    }
  }

  private stepSkipUntil(c: string): void {
    this.bang = (this.bang + c).slice(-this.terminator.length);
    if (this.bang === this.terminator) this.afterMarkup();
  }

  private stepDoctype(c: string): void {
    if (c === "[") this.doctypeDepth++;
    else if (c === "]") this.doctypeDepth--;
    else if (c === ">" && this.doctypeDepth <= 0) this.afterMarkup();
  }

  private afterMarkup(): void {
    this.state = "text";
    if (this.stack.length === 0 && this.topLevelOpen) {
      // A refused construct at stream level, reported already: nothing to flush.
      this.resetStanza();
    }
  }

  private stepStartName(c: string): void {
    if (NAME_CHAR.test(c)) {
      this.name += c;
      return;
    }
    this.stack.push(this.name);
    this.selfClosing = false;
    this.state = "inStartTag";
    this.stepInStartTag(c);
  }

  private stepInStartTag(c: string): void {
    if (c === '"' || c === "'") {
      this.quote = c;
      this.state = "attrValue";
    } else if (c === "/") {
      this.selfClosing = true;
    } else if (c === ">") {
      this.state = "text";
      if (this.selfClosing) this.closeElement();
    } else if (c === "<") {
      this.reject("malformed", "< inside a start tag");
    } else {
      this.selfClosing = false;
    }
  }

  private stepAttrValue(c: string): void {
    if (c === this.quote) this.state = "inStartTag";
    else if (c === "<") this.reject("malformed", "< in an attribute value");
    else if (c === "&") {
      this.entity = "";
      this.returnState = "attrValue";
      this.state = "entity";
    }
  }

  private stepEntity(c: string): void {
    if (c === ";") {
      if (!ENTITY.test(this.entity)) this.reject("restricted-xml", `entity reference &${this.entity.slice(0, 32)}; (RFC 6120 §11.1)`);
      else if (this.entity.startsWith("#") && !xmlChar(this.entity)) this.reject("malformed", `character reference &${this.entity}; to a character XML does not allow`);
      this.state = this.returnState;
    } else if (this.entity.length > 12 || /[\s<&"']/.test(c)) {
      this.reject("malformed", "unterminated entity reference");
      this.state = this.returnState;
      if (c === "<" && this.returnState === "text") this.stepText(c);
    } else {
      this.entity += c;
    }
  }

  private stepEndTag(c: string): void {
    if (c !== ">") {
      if (!/\s/.test(c)) this.name += c;
      return;
    }
    this.state = "text";
    if (this.stack.length === 0) {
      // The stream's own end tag.
      this.topLevelOpen = false;
      if (this.name === "stream:stream") this.out.push({ kind: "pass", text: "</stream:stream>" });
      else this.rejectOutside("malformed", `unexpected end tag </${this.name.slice(0, 64)}>`);
      this.resetStanza();
      return;
    }
    if (this.stack.at(-1) !== this.name) {
      this.reject("malformed", `</${this.name.slice(0, 64)}> does not close <${this.stack.at(-1)!.slice(0, 64)}>`);
      // Resynchronise on the stanza's own end tag, else ignore the stray one.
      if (this.name !== this.stack[0]) return;
      this.stack = [this.name];
    }
    this.closeElement();
  }

  private closeElement(): void {
    this.stack.pop();
    if (this.stack.length === 0) this.completed = true;
  }
}
