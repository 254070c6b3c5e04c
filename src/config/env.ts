/**
 * Environment overrides, implemented once for every config key (STYLE habit 8):
 *
 *   PARLEY_<SECTION>__<KEY>[__<KEY>…]   e.g. PARLEY_REDIS__URL, PARLEY_ADAPTERS__MATRIX__AS_TOKEN
 *   PARLEY_<KEY>                        a top-level key, e.g. PARLEY_MAPPINGS
 *   …_FILE                              read the value from a file (a secret): PARLEY_ADMIN__TOKEN_FILE
 *
 * Each level is its key in upper snake case (`keyPrefix` → `KEY_PREFIX`). Values are turned into
 * the key's type (numbers, `true`/`false`, arrays as JSON or comma-separated). Variables whose
 * first part names no config key and that have no `__` are not Parley config (e.g.
 * PARLEY_PEER_CACHE) and are left alone; every other mistake is a problem naming the variable.
 */
import { readFileSync } from "node:fs";
import type { z } from "zod";
import { childSchema, leafKind, objectShape } from "./introspect.js";
import type { KeyPath, Problem } from "./problems.js";
import { errorMessage } from "../errors/message.js";

export const ENV_PREFIX = "PARLEY_";

/** `keyPrefix` → `KEY_PREFIX`, `as_token` → `AS_TOKEN`, `e2e-x` → `E2E_X`. */
export function envSegment(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, "$1_$2").replace(/-/g, "_").toUpperCase();
}

/** The variable that overrides a key path. */
export function envName(path: readonly string[]): string {
  return ENV_PREFIX + path.map(envSegment).join("__");
}

const camel = (seg: string) => seg.toLowerCase().replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());

/** The config key an upper-snake segment names: a known key of the schema, else its camelCase. */
function keyFor(schema: z.ZodType | undefined, seg: string): { key: string; known: boolean } {
  const shape = schema && objectShape(schema);
  const found = shape && Object.keys(shape).find((k) => envSegment(k) === seg);
  return found ? { key: found, known: true } : { key: camel(seg), known: false };
}

function convert(raw: string, kind: ReturnType<typeof leafKind>): { ok: true; value: unknown } | { ok: false; message: string } {
  switch (kind) {
    case "number": {
      const n = Number(raw);
      return raw.trim() !== "" && Number.isFinite(n) ? { ok: true, value: n } : { ok: false, message: `"${raw}" is not a number` };
    }
    case "boolean":
      if (/^(true|1|yes|on)$/i.test(raw)) return { ok: true, value: true };
      if (/^(false|0|no|off)$/i.test(raw)) return { ok: true, value: false };
      return { ok: false, message: `"${raw}" is not true or false` };
    case "array":
      if (raw.trim().startsWith("[")) return parseJson(raw);
      return { ok: true, value: raw.split(",").map((s) => s.trim()).filter((s) => s !== "") };
    case "json":
      return /^\s*[[{]/.test(raw) ? parseJson(raw) : { ok: true, value: raw };
    case "string":
      return { ok: true, value: raw };
  }
}

function parseJson(raw: string): { ok: true; value: unknown } | { ok: false; message: string } {
  try {
    return { ok: true, value: JSON.parse(raw) as unknown };
  } catch (e) {
    return { ok: false, message: `not valid JSON: ${errorMessage(e)}` };
  }
}

function setAt(target: Record<string, unknown>, path: readonly string[], value: unknown): string | undefined {
  let node = target;
  for (const [i, key] of path.slice(0, -1).entries()) {
    const next = node[key];
    if (next === undefined || next === null) node = node[key] = {};
    else if (typeof next === "object" && !Array.isArray(next)) node = next as Record<string, unknown>;
    else return `${path.slice(0, i + 1).join(".")} is not a section`;
  }
  node[path[path.length - 1]!] = value;
  return undefined;
}

export interface EnvResult {
  readonly problems: Problem[];
  /** Key paths set from the environment, with the variable that set each (to name it in later problems). */
  readonly origins: ReadonlyMap<string, string>;
}

interface Resolved {
  readonly path: string[];
  readonly schema: z.ZodType | undefined;
  readonly fromFile: boolean;
}

/** Map a variable's segments to a key path, noticing a `_FILE` suffix on a key that exists without it. */
function resolvePath(root: z.ZodType, segs: readonly string[]): Resolved | undefined {
  const path: string[] = [];
  let schema: z.ZodType | undefined = root;
  for (const [i, seg] of segs.entries()) {
    const last = i === segs.length - 1;
    let { key, known } = keyFor(schema, seg);
    let fromFile = false;
    if (last && seg.endsWith("_FILE")) {
      const bare = keyFor(schema, seg.slice(0, -5));
      if (bare.known) ({ key, known, fromFile } = { ...bare, fromFile: true });
    }
    if (i === 0 && !known && segs.length === 1) return undefined;
    path.push(key);
    schema = schema && childSchema(schema, key);
    if (last) return { path, schema, fromFile };
  }
  return undefined;
}

/** Apply every `PARLEY_*` override in `env` to `raw` (in place), checked against `root`. */
export function applyEnv(raw: Record<string, unknown>, root: z.ZodType, env: Readonly<Record<string, string | undefined>>): EnvResult {
  const problems: Problem[] = [];
  const origins = new Map<string, string>();
  const bad = (name: string, message: string, path: KeyPath = []) => problems.push({ file: `environment variable ${name}`, line: 0, path, message });
  for (const name of Object.keys(env).filter((n) => n.startsWith(ENV_PREFIX)).sort()) {
    const value = env[name];
    const segs = name.slice(ENV_PREFIX.length).split("__");
    if (value === undefined || segs.some((s) => s === "")) continue;
    const r = resolvePath(root, segs);
    if (!r) continue;
    if (!objectShape(root)?.[r.path[0]!]) { bad(name, `no config section "${r.path[0]}" (known: ${Object.keys(objectShape(root) ?? {}).join(", ")})`); continue; }
    let text = value;
    if (r.fromFile) {
      try {
        text = readFileSync(value, "utf8").replace(/\r?\n$/, "");
      } catch (e) {
        bad(name, `cannot read the secret file ${value}: ${(e as NodeJS.ErrnoException).code ?? errorMessage(e)}`, r.path);
        continue;
      }
    }
    const converted = convert(text, leafKind(r.schema));
    if (!converted.ok) { bad(name, r.fromFile ? `the content of ${value} is not a valid ${leafKind(r.schema)}` : converted.message, r.path); continue; }
    const clash = setAt(raw, r.path, converted.value);
    if (clash) { bad(name, clash, r.path); continue; }
    origins.set(r.path.join("."), name);
  }
  return { problems, origins };
}
