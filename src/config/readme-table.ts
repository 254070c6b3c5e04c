/**
 * The config table of an adapter's README (`adapters.<id>`), generated from its schema's
 * `.describe()` texts and defaults like docs/configuration.md, so the two cannot drift apart.
 * The README holds the table between {@link TABLE_BEGIN} and {@link TABLE_END}; a unit test
 * (test/unit/config/docs.test.ts) fails when it is stale and regenerates it on request.
 */
import { stringify } from "yaml";
import type { z } from "zod";
import { envName } from "./env.js";
import { defaultOf, descriptionOf, isOptional, objectShape } from "./introspect.js";
import { isSecret } from "./secret.js";

export const TABLE_BEGIN = "<!-- config table: generated from the config schema; PARLEY_UPDATE_DOCS=1 npx vitest run --project unit test/unit/config/docs.test.ts regenerates it -->";
export const TABLE_END = "<!-- end of config table -->";

const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\s+/g, " ").trim();

function defaultCell(schema: z.ZodType): string {
  const def = defaultOf(schema);
  if (def.has) return `\`${cell(stringify(def.value, { flow: true }).trim())}\``;
  return isOptional(schema) ? "—" : "required";
}

function rows(shape: Readonly<Record<string, z.ZodType>>, path: readonly string[], section: readonly string[]): string[] {
  return Object.entries(shape).flatMap(([key, schema]) => {
    const here = [...path, key];
    const child = objectShape(schema);
    if (child && Object.keys(child).length > 0) return rows(child, here, section);
    const secret = isSecret(schema) ? ` Set it with \`${envName([...section, ...here])}_FILE\` (a file) or the variable, never in parley.yaml.` : "";
    return [`| \`${here.join(".")}\` | ${defaultCell(schema)} | \`${envName([...section, ...here])}\` | ${cell(descriptionOf(schema) ?? "")}${secret} |`];
  });
}

/** The table, markers included, for the section `adapters.<id>` described by `schema`. */
export function adapterConfigTable(id: string, schema: z.ZodType): string {
  const shape = objectShape(schema) ?? {};
  return [TABLE_BEGIN, "| Key | Default | Environment | Meaning |", "| --- | --- | --- | --- |", ...rows(shape, [], ["adapters", id]), TABLE_END].join("\n");
}

/** `readme` with its table replaced by `table`; undefined when it has no markers. */
export function withConfigTable(readme: string, table: string): string | undefined {
  const begin = readme.indexOf(TABLE_BEGIN);
  const end = readme.indexOf(TABLE_END);
  if (begin < 0 || end < begin) return undefined;
  return readme.slice(0, begin) + table + readme.slice(end + TABLE_END.length);
}
