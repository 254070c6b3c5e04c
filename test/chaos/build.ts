/**
 * The chaos test and `npm run bench:e2e` run Parley as plain JavaScript, as production does
 * (`npm run build`, `node dist/…`): under tsx a cold process took ~15 s from spawn to a live link on
 * the loaded 2-core machine, and that start-up gap counted as an outage. The sources are
 * transpiled file by file with esbuild (what tsx itself runs; ~1 s where `tsc` took 10–50 s on
 * this machine; `npm run typecheck` checks the types) into a fresh temporary directory — never the
 * checkout's `dist/`, which `bin/parley.js` would then prefer for everyone — with a `node_modules`
 * link back to the checkout's. Reproducible from a clean checkout, and never stale.
 */
import { globSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { build } from "esbuild";

const REPO = resolve(import.meta.dirname, "../..");

export interface ParleyBuild {
  /** The compiled `parley` entry point (run it with `node`). */
  readonly entry: string;
  /** How long the build took (ms). */
  readonly buildMs: number;
  remove(): void;
}

/** Transpile src/, adapters/ and bin/ into a temporary directory. */
export async function buildParley(): Promise<ParleyBuild> {
  const out = mkdtempSync(join(tmpdir(), "parley-chaos-build-"));
  const t0 = Date.now();
  const entryPoints = globSync("{src,adapters,bin}/**/*.ts", { cwd: REPO }).filter((f) => !f.endsWith(".d.ts")).map((f) => join(REPO, f));
  try {
    await build({ entryPoints, outdir: out, outbase: REPO, format: "esm", platform: "node", target: "node22", bundle: false, logLevel: "error" });
  } catch (e) {
    rmSync(out, { recursive: true, force: true });
    throw e;
  }
  symlinkSync(join(REPO, "node_modules"), join(out, "node_modules"), "dir");
  return { entry: join(out, "bin/parley.js"), buildMs: Date.now() - t0, remove: () => rmSync(out, { recursive: true, force: true }) };
}
