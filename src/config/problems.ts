/**
 * The one way Parley reports what is wrong with an admin's file (STYLE habit 8): every problem at
 * once, each as `file:line: key.path: message`. Used by the gateway config and the domain mappings.
 */
import type { z } from "zod";
import { ParleyError } from "../errors/parley-error.js";

export type KeyPath = readonly (string | number)[];

/** One thing wrong in one place of one file. */
export interface Problem {
  readonly file: string;
  /** 1-based; 0 when the problem has no place in the file (e.g. an environment variable). */
  readonly line: number;
  readonly path: KeyPath;
  readonly message: string;
}

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** `domains."chat.example.org".allowPeers[2]`: plain keys bare, others quoted, indices in brackets. */
export function formatPath(path: KeyPath): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else out += (out === "" ? "" : ".") + (PLAIN_KEY.test(seg) ? seg : JSON.stringify(seg));
  }
  return out;
}

/** `file:line: key.path: message` (the line and the key are left out when unknown). */
export function formatProblem(p: Problem): string {
  const where = p.line > 0 ? `${p.file}:${p.line}` : p.file;
  return p.path.length > 0 ? `${where}: ${formatPath(p.path)}: ${p.message}` : `${where}: ${p.message}`;
}

/** Problems in the order an admin reads the file: by file, then line. */
export function sortProblems(problems: readonly Problem[]): Problem[] {
  return [...problems].sort((a, b) => (a.file === b.file ? a.line - b.line : a.file < b.file ? -1 : 1));
}

/** The configuration or the mappings are invalid: carries every problem found. */
export class ConfigError extends ParleyError {
  readonly problems: readonly Problem[];

  constructor(problems: readonly Problem[], what = "configuration") {
    const sorted = sortProblems(problems);
    super("PARLEY_CONFIG_INVALID", `invalid ${what} (${sorted.length} problem${sorted.length === 1 ? "" : "s"}):\n${sorted.map(formatProblem).join("\n")}`, { problems: sorted.length });
    this.name = "ConfigError";
    this.problems = sorted;
  }

  /** One `file:line: key: message` line per problem. */
  lines(): string[] {
    return this.problems.map(formatProblem);
  }
}

/** Locates a key path in the source file; returns 0 when it cannot. */
export type Locator = (path: KeyPath) => number;

const UNITS: Record<string, string> = { string: " characters", array: " items", set: " items" };

/** Zod's issue in an admin's words: "must be one of allow, deny", "must be at most 65535". */
function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "invalid_type":
      return /received undefined$/.test(issue.message) ? "is required" : issue.message.replace(/^Invalid input: /, "");
    case "invalid_value":
      return `must be one of ${issue.values.map((v) => String(v)).join(", ")}`;
    case "too_small":
      return `must be ${issue.inclusive === false ? "more than" : "at least"} ${String(issue.minimum)}${UNITS[issue.origin] ?? ""}`;
    case "too_big":
      return `must be ${issue.inclusive === false ? "less than" : "at most"} ${String(issue.maximum)}${UNITS[issue.origin] ?? ""}`;
    default:
      return issue.message.replace(/^Invalid input: /, "");
  }
}

/**
 * Turn zod issues into problems. `base` is where the validated value sits in the file; an
 * unrecognised key becomes one problem per key, located at that key's own line.
 */
export function problemsFromZod(issues: readonly z.core.$ZodIssue[], file: string, base: KeyPath, locate: Locator): Problem[] {
  const out: Problem[] = [];
  for (const issue of issues) {
    const path = [...base, ...issue.path.map((s) => (typeof s === "symbol" ? String(s) : s))];
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) out.push({ file, line: locate([...path, key]), path: [...path, key], message: "unknown key" });
    } else {
      out.push({ file, line: locate(path), path, message: describeIssue(issue) });
    }
  }
  return out;
}
