/**
 * Secrets are declared by the schema that owns them: `secret(z.string())` marks a config key
 * whose value must never reach a log line. The logger's redaction list is derived from these
 * marks (`secretKeys`), so a network's adapter declares its secrets in its own config schema and
 * the core never needs to know their names.
 */
import { z } from "zod";
import { WRAPPERS, defOf, unwrap } from "./introspect.js";

const secrets = z.registry<Record<string, never>>();

/** Mark `schema` as a secret. Call it on the innermost schema or on the outermost wrapper. */
export function secret<T extends z.ZodType>(schema: T): T {
  secrets.add(schema, {});
  return schema;
}

/** Whether `schema`, or any wrapper between it and its core schema, is marked {@link secret}. */
export function isSecret(schema: z.ZodType): boolean {
  let s: z.ZodType | undefined = schema;
  for (let i = 0; s && i < 20; i++) {
    if (secrets.has(s)) return true;
    const d = defOf(s);
    s = WRAPPERS.has(d.type) ? d.innerType : d.type === "pipe" ? d.in : undefined;
  }
  return false;
}

/** Every path to a secret in `schema`: object keys by name, array elements and record values as `*`. */
export function secretPaths(schema: z.ZodType, prefix: readonly string[] = []): string[][] {
  if (isSecret(schema)) return [[...prefix]];
  const d = defOf(unwrap(schema));
  if (d.type === "object" && d.shape) return Object.entries(d.shape).flatMap(([k, child]) => secretPaths(child, [...prefix, k]));
  if (d.type === "array" && d.element) return secretPaths(d.element, [...prefix, "*"]);
  if (d.type === "record" && d.valueType) return secretPaths(d.valueType, [...prefix, "*"]);
  return [];
}

/** The key names under which the schema keeps secrets (the last step of each path). */
export function secretKeys(schema: z.ZodType): string[] {
  return [...new Set(secretPaths(schema).map((p) => p.at(-1)).filter((k): k is string => k !== undefined && k !== "*"))];
}
