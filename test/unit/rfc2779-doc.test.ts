/**
 * docs/rfc2779.md lists every RFC 2779 requirement id of ../shared/rfc2779-requirements.md with the
 * test that proves it (`T-x.y.z`, as named in a test, and the test files that hold it), or
 * "N/A: reason" (issue 6, Done when). Fails when an id is missing or listed twice, when a row is
 * neither (e.g. "pending: who"), or when it names a test or a test file that does not hold it.
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

/**
 * Every `T-x.y.z` that appears in the name of a test or suite (`it`, `test`, `describe`), or of
 * a contract check (`name:` in test/contract/checks.ts, which the suite turns into tests), with its file.
 */
export function namedTests(files: readonly string[]): Map<string, Set<string>> {
  const found = new Map<string, Set<string>>();
  const call = /(?:\b(?:it|test|describe)(?:\.\w+)*\(|\bname:)\s*(["'`])((?:\\.|(?!\1).)*)\1/g;
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

/** What is wrong with the rows: a row must be "N/A: reason" (ten characters at least) or name tests that exist, with their files. */
export function problemsOf(rows: readonly Row[], tests: ReadonlyMap<string, ReadonlySet<string>>): string[] {
  const problems: string[] = [];
  for (const row of rows) {
    if (/^N\/A:\s*\S.{9,}/.test(row.proof)) continue;
    const named = [...row.proof.matchAll(/\bT-(\d+\.\d+(?:\.\d+)?)\b/g)].map((m) => m[1]!);
    const files = [...row.proof.matchAll(/`([^`]+\.ts)`/g)].map((f) => f[1]!);
    if (named.length === 0) {
      problems.push(`${row.id}: neither a test (T-x.y.z) nor "N/A: reason": ${row.proof}`);
      continue;
    }
    if (files.length === 0) problems.push(`${row.id}: names T-${named.join("/T-")} but no test file`);
    for (const t of named) if (!tests.has(t)) problems.push(`${row.id}: no test is named T-${t}`);
    for (const f of files) {
      if (!named.some((t) => tests.get(t)?.has(f))) problems.push(`${row.id}: ${f} has no test named ${named.map((t) => `T-${t}`).join("/")}`);
    }
  }
  return problems;
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

  it("lists every requirement id, each once", () => {
    const listed = new Set(rows.map((r) => r.id));
    expect(required.filter((id) => !listed.has(id))).toEqual([]);
    expect(rows.map((r) => r.id).filter((id, i, all) => all.indexOf(id) !== i)).toEqual([]);
  });

  it("names only tests that exist, in files that hold them, and gives a reason for every N/A", () => {
    expect(problemsOf(rows, tests)).toEqual([]);
  });

  it("has no pending row: every id is proved by a named test or is N/A with a reason", () => {
    expect(rows.filter((r) => !/^(?:N\/A:|T-\d)/.test(r.proof)).map((r) => `${r.id}: ${r.proof}`)).toEqual([]);
  });

  it("catches the rows it must refuse (the check itself can fail)", () => {
    const known = new Map([["2.0", new Set(["test/unit/a.test.ts"])]]);
    expect(problemsOf([{ id: "2.0", proof: "T-2.0 `test/unit/a.test.ts`" }, { id: "3.1.6", proof: "N/A: not built yet — no PIDF export" }], known)).toEqual([]);
    expect(problemsOf([{ id: "2.0", proof: "pending: someone" }], known)).toHaveLength(1);
    expect(problemsOf([{ id: "2.0", proof: "N/A: tbd" }], known)).toHaveLength(1);
    expect(problemsOf([{ id: "2.0", proof: "T-2.0" }], known)).toHaveLength(1);
    expect(problemsOf([{ id: "2.0", proof: "T-2.0.1 `test/unit/a.test.ts`" }], known)).toHaveLength(2);
    expect(problemsOf([{ id: "2.0", proof: "T-2.0 `test/unit/b.test.ts`" }], known)).toHaveLength(1);
  });
});
