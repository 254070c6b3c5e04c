/** The code-point classes of issue 11 (test/fixtures/xmpp/code-point-classes.json), name → [first, last]. */
import { readFileSync } from "node:fs";

export function codePointClasses(): Record<string, [number, number]> {
  const table = JSON.parse(readFileSync(new URL("../fixtures/xmpp/code-point-classes.json", import.meta.url), "utf8")) as Array<{ class: string; from: number; to: number }>;
  return Object.fromEntries(table.map((c) => [c.class, [c.from, c.to]]));
}
