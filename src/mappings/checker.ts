/** Problem collection shared by the mappings loader and its whole-file checks. */
import type { z } from "zod";
import type { NetworkAddressing } from "../adapter/contract.js";
import type { NetworkId } from "../model/address.js";
import { formatPath, problemsFromZod, type KeyPath, type Problem } from "../config/problems.js";
import { objectShape } from "../config/introspect.js";
import type { YamlSource } from "../config/yaml-source.js";

/** A network Parley can join: an adapter factory satisfies this. */
export interface KnownNetwork {
  readonly id: NetworkId;
  readonly addressing: NetworkAddressing;
}

export type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** Collects problems for one file. */
export class Checker {
  readonly problems: Problem[] = [];
  constructor(readonly src: YamlSource, readonly known: ReadonlyMap<string, KnownNetwork>) {}

  add(path: KeyPath, message: string): void {
    this.problems.push({ file: this.src.file, line: this.src.lineOf(path), path, message });
  }

  knownList(): string {
    return [...this.known.keys()].join(", ");
  }

  /** Validate with zod; on failure record the issues and return undefined. */
  parse<S extends z.ZodType>(schema: S, value: unknown, path: KeyPath): z.output<S> | undefined {
    const r = schema.safeParse(value);
    if (r.success) return r.data;
    this.problems.push(...problemsFromZod(r.error.issues, this.src.file, path, this.src.locate));
    return undefined;
  }

  /**
   * Validate an adapter's section. Top-level keys are strict whatever the schema says: a key the
   * schema's object shape does not name, or one its schema silently drops, is reported as unknown
   * (a misspelt key must never be ignored). A schema with no named keys at all (a catch-all) is
   * taken as deliberately open.
   */
  parseSection(schema: z.ZodType<Obj>, value: Obj, path: KeyPath): Obj | undefined {
    const out = this.parse(schema, value, path);
    const shape = objectShape(schema);
    const named = shape && Object.keys(shape).length > 0 ? new Set(Object.keys(shape)) : undefined;
    // Unknown keys are reported even when the section failed its schema (a missing key must not
    // hide a misspelt one): every problem at once. Without named keys, only a parsed section tells.
    if (!named && out === undefined) return undefined;
    let ok = out !== undefined;
    for (const key of Object.keys(value)) {
      if (named ? named.has(key) : key in out!) continue;
      ok = false;
      // A strict schema has already said so (zod's unrecognized_keys).
      const p = formatPath([...path, key]);
      if (!this.problems.some((q) => q.message === "unknown key" && formatPath(q.path) === p)) this.add([...path, key], "unknown key");
    }
    return ok ? out : undefined;
  }
}

/** A mapping-valued section; `key:` with nothing under it counts as empty. */
export function sectionOf(c: Checker, raw: unknown, path: KeyPath): Obj | undefined {
  if (raw === null || raw === undefined) return {};
  if (isObj(raw)) return raw;
  c.add(path, "must be a mapping of keys to values");
  return undefined;
}

