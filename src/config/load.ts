/**
 * Load the gateway config: a YAML file (or the built-in default), then environment overrides,
 * then one validation of everything, reporting every problem at once — `file:line: key: message`
 * for the file, the variable's name for the environment (STYLE habit 8).
 */
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, isAbsolute, resolve } from "node:path";
import { applyEnv } from "./env.js";
import { ConfigError, formatPath, problemsFromZod, type KeyPath, type Problem } from "./problems.js";
import { gatewayConfigSchema, type AdapterConfigSchema, type GatewayConfig } from "./schema.js";
import { objectShape } from "./introspect.js";
import { YamlSource } from "./yaml-source.js";
import { DEFAULT_CONFIG_NAME, DEFAULT_CONFIG_YAML } from "./default.js";
import { errorMessage } from "../errors/message.js";

export type ConfigResult = { readonly ok: true; readonly config: GatewayConfig } | { readonly ok: false; readonly error: ConfigError };

export interface ConfigSourceOptions {
  /** The adapters whose `adapters.<id>` sections may appear (an adapter factory satisfies AdapterConfigSchema). */
  readonly adapters: readonly AdapterConfigSchema[];
  /** Environment to take `PARLEY_*` overrides from (pass `process.env`; tests pass their own). */
  readonly env: Readonly<Record<string, string | undefined>>;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * The variable behind a value at `path`: one that set it or a parent of it, or — when the file does
 * not have the key at all — one that created it by setting something below it.
 */
function envOrigin(origins: ReadonlyMap<string, string>, path: KeyPath, src: YamlSource): string | undefined {
  for (let n = path.length; n > 0; n--) {
    const name = origins.get(path.slice(0, n).join("."));
    if (name) return name;
  }
  if (path.length === 0 || src.has(path)) return undefined;
  const below = `${path.join(".")}.`;
  for (const [key, name] of origins) if (key.startsWith(below)) return name;
  return undefined;
}

/** Attribute problems on values that came from the environment to their variable. */
function attribute(problems: readonly Problem[], origins: ReadonlyMap<string, string>, src: YamlSource): Problem[] {
  return problems.map((p) => {
    const name = envOrigin(origins, p.path, src);
    return name ? { ...p, file: `environment variable ${name}`, line: 0 } : p;
  });
}

/**
 * Keys of an adapter section its schema does not name, or silently drops: misspelt keys are errors
 * even when an adapter's schema is loose (a schema naming no keys at all is taken as open).
 */
function unknownAdapterKeys(raw: Obj, config: GatewayConfig | undefined, adapters: readonly AdapterConfigSchema[], src: YamlSource, already: readonly Problem[] = []): Problem[] {
  const out: Problem[] = [];
  const sections = isObj(raw.adapters) ? raw.adapters : {};
  for (const [id, section] of Object.entries(sections)) {
    const parsed = config?.adapters[id];
    const schema = adapters.find((a) => a.id === id)?.configSchema;
    if (!isObj(section) || !schema) continue;
    const shape = objectShape(schema);
    const named = shape && Object.keys(shape).length > 0 ? new Set(Object.keys(shape)) : undefined;
    // A config that failed its schema still has its misspelt keys reported, where the shape names them.
    if (!named && !isObj(parsed)) continue;
    for (const key of Object.keys(section)) {
      const path = ["adapters", id, key];
      const said = already.some((q) => q.message === "unknown key" && formatPath(q.path) === formatPath(path));
      if (!said && (named ? !named.has(key) : !(key in (parsed as Obj)))) out.push({ file: src.file, line: src.lineOf(path), path, message: "unknown key" });
    }
  }
  return out;
}

/** admin.tokenFile → admin.token; the admin API needs a token when it is on. */
function resolveAdminToken(config: GatewayConfig, src: YamlSource, origins: ReadonlyMap<string, string>, baseDir: string | undefined): Problem[] {
  const at = (key: string, message: string): Problem => {
    const path = ["admin", key];
    const name = envOrigin(origins, path, src);
    return name ? { file: `environment variable ${name}`, line: 0, path, message } : { file: src.file, line: src.lineOf(path), path, message };
  };
  const admin = config.admin;
  if (admin.token !== undefined && admin.tokenFile !== undefined) return [at("tokenFile", "set admin.token or admin.tokenFile, not both")];
  if (admin.tokenFile !== undefined) {
    const file = baseDir !== undefined && !origins.has("admin.tokenFile") ? resolve(baseDir, admin.tokenFile) : admin.tokenFile;
    try {
      const token = readFileSync(file, "utf8").replace(/\r?\n$/, "");
      if (token.length < 16) return [at("tokenFile", `the token in ${admin.tokenFile} must be at least 16 characters`)];
      (config.admin as { token?: string }).token = token;
    } catch (e) {
      return [at("tokenFile", `cannot read ${admin.tokenFile}: ${(e as NodeJS.ErrnoException).code ?? errorMessage(e)}`)];
    }
  }
  if (admin.enabled && config.admin.token === undefined) {
    return [at("token", "the admin API needs a token: set admin.tokenFile (or PARLEY_ADMIN__TOKEN_FILE), or admin.enabled: false")];
  }
  return [];
}

/** Validate config text. `file` names it in problems; `baseDir` anchors a relative mappings path. */
export function parseConfig(text: string, file: string, options: ConfigSourceOptions & { readonly baseDir?: string }): ConfigResult {
  const src = new YamlSource(text, file);
  if (src.syntaxProblems.length > 0) return { ok: false, error: new ConfigError(src.syntaxProblems) };
  const problems: Problem[] = [...src.duplicateKeyProblems];
  const raw: Obj = isObj(src.value) ? structuredClone(src.value) : {};
  if (src.value !== null && src.value !== undefined && !isObj(src.value)) problems.push({ file, line: 1, path: [], message: "must be a mapping of sections" });
  const schema = gatewayConfigSchema(options.adapters);
  const env = applyEnv(raw, schema, options.env);
  problems.push(...env.problems);
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    problems.push(...attribute(problemsFromZod(parsed.error.issues, file, [], src.locate), env.origins, src));
    problems.push(...attribute(unknownAdapterKeys(raw, undefined, options.adapters, src, problems), env.origins, src));
    return { ok: false, error: new ConfigError(problems) };
  }
  const config: GatewayConfig = parsed.data;
  problems.push(...attribute(unknownAdapterKeys(raw, config, options.adapters, src), env.origins, src));
  problems.push(...resolveAdminToken(config, src, env.origins, options.baseDir));
  if (problems.length > 0) return { ok: false, error: new ConfigError(problems) };
  if (options.baseDir !== undefined && !env.origins.has("mappings") && !isAbsolute(config.mappings)) {
    return { ok: true, config: { ...config, mappings: resolve(options.baseDir, config.mappings) } };
  }
  return { ok: true, config };
}

/**
 * Load the gateway config from `path`, or the built-in default when no path is given, with
 * environment overrides applied.
 */
export async function loadConfig(path: string | undefined, options: ConfigSourceOptions): Promise<ConfigResult> {
  if (path === undefined) return parseConfig(DEFAULT_CONFIG_YAML, DEFAULT_CONFIG_NAME, options);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    return { ok: false, error: new ConfigError([{ file: path, line: 0, path: [], message: `cannot read the config file: ${errorMessage(e)}` }]) };
  }
  return parseConfig(text, path, { ...options, baseDir: dirname(path) });
}
