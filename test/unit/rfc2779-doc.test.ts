/**
 * docs/rfc2779.md lists every RFC 2779 requirement id of ../shared/rfc2779-requirements.md with the
 * test that proves it (`T-x.y.z`, as named in a test), or "N/A: reason", or "pending: who" (not
 * proved yet, reported). Fails when an id is missing or a row names a test that does not exist.
 * Without the shared file (a checkout on its own), the id list committed in the doc is used.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const repoRoot = resolve(import.meta.dirname, "../..");
const docPath = join(repoRoot, "docs/rfc2779.md");
const sharedPath = resolve(repoRoot, "../shared/rfc2779-requirements.md");

/** Requirement ids of the shared file: the numbered rows of its matrix (§1.1–1.4), plus `2.0` for §2's unnumbered paragraph. */
export function idsOfRequirements(text: string): string[] {
  const start = text.indexOf("## 1. Requirements matrix");
  const end = text.indexOf("### 1.5", start);
  const matrix = text.slice(start, end < 0 ? undefined : end);
  const ids = [...matrix.matchAll(/^\| (\d+\.\d+\.\d+) \|/gm)].map((m) => m[1]!);
  if (/^\| 2 \(intro/m.test(matrix)) ids.unshift("2.0");
  return ids;
}

interface Row { id: string; proof: string }

export function rowsOfDoc(text: string): Row[] {
  return [...text.matchAll(/^\| (\d+\.\d+(?:\.\d+)?) \| ([^|]*) \| ([^|]*) \|/gm)].map((m) => ({ id: m[1]!, proof: m[3]!.trim() }));
}

/** The id list committed in the doc (`<!-- ids: … -->`), the fallback when the shared file is absent. */
export function committedIds(text: string): string[] {
  return /<!-- ids: ([^>]*) -->/.exec(text)?.[1]?.trim().split(/\s+/) ?? [];
}

function testFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...testFiles(path));
    else if (/\.test\.ts$/.test(name) || /^test\/contract\/.*\.ts$/.test(path.slice(repoRoot.length + 1))) out.push(path);
  }
  return out;
}

/** Every `T-x.y.z` that appears in the name of a test or suite (`it`, `test`, `describe`), with its file. */
export function namedTests(files: readonly string[]): Map<string, Set<string>> {
  const found = new Map<string, Set<string>>();
  const call = /\b(?:it|test|describe)(?:\.\w+)*\(\s*(["'`])((?:\\.|(?!\1).)*)\1/g;
  for (const file of files) {
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(call)) {
      for (const t of m[2]!.matchAll(/\bT-(\d+\.\d+(?:\.\d+)?)(?![\d.]*\d)/g)) {
        const set = found.get(t[1]!) ?? new Set<string>();
        set.add(file.slice(repoRoot.length + 1));
        found.set(t[1]!, set);
      }
    }
  }
  return found;
}

describe("docs/rfc2779.md", () => {
  const doc = readFileSync(docPath, "utf8");
  const rows = rowsOfDoc(doc);
  const required = existsSync(sharedPath) ? idsOfRequirements(readFileSync(sharedPath, "utf8")) : committedIds(doc);
  const tests = namedTests(testFiles(join(repoRoot, "test")));

  it("knows the requirement ids (93 numbered items and §2's paragraph)", () => {
    expect(required.length).toBeGreaterThanOrEqual(94);
    if (existsSync(sharedPath)) expect(committedIds(doc)).toEqual(required);
  });

  it("lists every requirement id", () => {
    const listed = new Set(rows.map((r) => r.id));
    expect(required.filter((id) => !listed.has(id))).toEqual([]);
  });

  it("names only tests that exist, and gives a reason for every N/A", () => {
    const problems: string[] = [];
    for (const row of rows) {
      if (/^N\/A:\s*\S.{9,}/.test(row.proof) || /^pending:\s*\S+/.test(row.proof)) continue;
      const named = [...row.proof.matchAll(/\bT-(\d+\.\d+(?:\.\d+)?)\b/g)].map((m) => m[1]!);
      if (named.length === 0) problems.push(`${row.id}: neither a test (T-x.y.z), "N/A: reason" nor "pending: who"`);
      for (const t of named) if (!tests.has(t)) problems.push(`${row.id}: no test is named T-${t}`);
      for (const f of row.proof.matchAll(/`([^`]+\.ts)`/g)) {
        if (!named.some((t) => tests.get(t)?.has(f[1]!))) problems.push(`${row.id}: ${f[1]} has no test named ${named.map((t) => `T-${t}`).join("/")}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("reports the ids still pending", () => {
    const pending = rows.filter((r) => r.proof.startsWith("pending:"));
    if (pending.length > 0) console.info(`RFC 2779 ids not proved yet: ${pending.map((r) => r.id).join(" ")}`);
    expect(pending.length).toBeLessThanOrEqual(rows.length);
  });
});
