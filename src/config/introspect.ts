/**
 * Just enough introspection of zod schemas for environment overrides (which key and type does
 * `PARLEY_A__B_C` name?) and for the generated sample config (descriptions and defaults).
 */
import type { z } from "zod";

/** The parts of a zod 4 definition read here. */
interface LooseDef {
  readonly type: string;
  readonly innerType?: z.ZodType;
  readonly shape?: Readonly<Record<string, z.ZodType>>;
  readonly valueType?: z.ZodType;
  readonly element?: z.ZodType;
  readonly in?: z.ZodType;
  readonly defaultValue?: unknown;
  readonly catchall?: z.ZodType;
}

export function defOf(schema: z.ZodType): LooseDef {
  return schema._zod.def;
}

export const WRAPPERS: ReadonlySet<string> = new Set(["optional", "default", "prefault", "nullable", "readonly", "catch", "nonoptional"]);

/** Strip optional/default/nullable/pipe wrappers down to the schema that decides the shape. */
export function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  for (let i = 0; i < 20; i++) {
    const d = defOf(s);
    if (WRAPPERS.has(d.type) && d.innerType) s = d.innerType;
    else if (d.type === "pipe" && d.in) s = d.in;
    else return s;
  }
  return s;
}

/** The first description found from the outside in (`.describe()` may sit on either side of `.default()`). */
export function descriptionOf(schema: z.ZodType): string | undefined {
  let s: z.ZodType | undefined = schema;
  for (let i = 0; s && i < 20; i++) {
    if (s.description) return s.description;
    const d = defOf(s);
    s = WRAPPERS.has(d.type) ? d.innerType : d.type === "pipe" ? d.in : undefined;
  }
  return undefined;
}

/** The default value, if any wrapper on the way in sets one. */
export function defaultOf(schema: z.ZodType): { readonly has: boolean; readonly value?: unknown } {
  let s: z.ZodType | undefined = schema;
  for (let i = 0; s && i < 20; i++) {
    const d = defOf(s);
    if (d.type === "default" || d.type === "prefault") return { has: true, value: d.defaultValue };
    s = WRAPPERS.has(d.type) ? d.innerType : undefined;
  }
  return { has: false };
}

export function isOptional(schema: z.ZodType): boolean {
  return schema.safeParse(undefined).success;
}

/** Keys of an object schema, or undefined when the schema is not an object. */
export function objectShape(schema: z.ZodType): Readonly<Record<string, z.ZodType>> | undefined {
  const d = defOf(unwrap(schema));
  return d.type === "object" ? d.shape : undefined;
}

/** The schema of one child key: an object's property or a record's values. */
export function childSchema(schema: z.ZodType, key: string): z.ZodType | undefined {
  const d = defOf(unwrap(schema));
  if (d.type === "object") return d.shape?.[key] ?? d.catchall;
  if (d.type === "record") return d.valueType;
  return undefined;
}

/** The leaf type an environment string must be turned into. */
export function leafKind(schema: z.ZodType | undefined): "number" | "boolean" | "array" | "string" | "json" {
  if (!schema) return "json";
  const t = defOf(unwrap(schema)).type;
  if (t === "number" || t === "int" || t === "bigint") return "number";
  if (t === "boolean") return "boolean";
  if (t === "array") return "array";
  if (t === "string" || t === "enum" || t === "literal" || t === "template_literal") return "string";
  return "json";
}
