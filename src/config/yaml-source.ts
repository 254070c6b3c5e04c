/**
 * An admin's YAML file parsed with the `yaml` document API, so every value keeps its line
 * (STYLE habit 8). Shared by the gateway config and the domain mappings loaders.
 */
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document } from "yaml";
import type { KeyPath, Problem } from "./problems.js";

export class YamlSource {
  readonly file: string;
  /** Syntax problems; when non-empty, `value` is whatever could be read and should not be trusted. */
  readonly syntaxProblems: readonly Problem[];
  /** Duplicate keys: reported, but the rest of the file is still checked. */
  readonly duplicateKeyProblems: readonly Problem[];
  readonly value: unknown;
  private readonly doc: Document.Parsed;
  private readonly lines: LineCounter;

  constructor(text: string, file: string) {
    this.file = file;
    this.lines = new LineCounter();
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: true, merge: true });
    const syntax: Problem[] = [];
    const dups: Problem[] = [];
    for (const e of this.doc.errors) {
      const line = this.lines.linePos(e.pos[0]).line;
      if (e.code === "DUPLICATE_KEY") dups.push({ file, line, path: [], message: "duplicate key: keys must be unique" });
      else syntax.push({ file, line, path: [], message: `YAML syntax: ${e.message.split("\n")[0] ?? e.code}` });
    }
    this.syntaxProblems = syntax;
    this.duplicateKeyProblems = dups;
    this.value = syntax.length > 0 ? undefined : (this.doc.toJS({ maxAliasCount: 100 }) as unknown);
  }

  /** Whether the whole key path is written in the file. */
  has(path: KeyPath): boolean {
    let node: unknown = this.doc.contents;
    for (const seg of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
        if (!pair) return false;
        node = pair.value;
      } else if (isSeq(node) && typeof seg === "number" && seg < node.items.length) {
        node = node.items[seg];
      } else {
        return false;
      }
    }
    return true;
  }

  /**
   * The line of a key path: the line of its last key when the whole path exists, else of the
   * deepest part that does (a missing key is reported where it should have been).
   */
  lineOf(path: KeyPath): number {
    let node: unknown = this.doc.contents;
    let line = node && typeof node === "object" && "range" in node ? this.lineAt(node.range) : 1;
    for (const seg of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
        if (!pair) return line;
        line = isScalar(pair.key) ? this.lineAt(pair.key.range) : line;
        node = pair.value;
      } else if (isSeq(node) && typeof seg === "number") {
        const item: unknown = node.items[seg];
        if (!item || typeof item !== "object" || !("range" in item)) return line;
        line = this.lineAt(item.range);
        node = item;
      } else {
        return line;
      }
    }
    return line;
  }

  /** A locator bound to this file, for {@link problemsFromZod}. */
  readonly locate = (path: KeyPath): number => this.lineOf(path);

  private lineAt(range: unknown): number {
    if (!Array.isArray(range) || typeof range[0] !== "number") return 0;
    return this.lines.linePos(range[0]).line;
  }
}
