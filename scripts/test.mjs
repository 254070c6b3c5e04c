#!/usr/bin/env node
// `npm test`: type-check, lint (incl. the import rules), then every vitest tier, then one plain
// summary line `N passed, N failed` that CI reads. Exits non-zero when any step fails.
// Extra arguments go to vitest (e.g. `npm test -- --project unit`).
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";

const bin = (name) => `node_modules/.bin/${name}`;
const run = (cmd, args) => spawnSync(cmd, args, { stdio: "inherit" }).status ?? 1;

const steps = [
  ["typecheck", bin("tsc"), ["--noEmit", "-p", "."]],
  ["lint", "npm", ["run", "--silent", "lint"]],
];
for (const [name, cmd, args] of steps) {
  console.log(`\n== ${name}`);
  if (run(cmd, args) !== 0) {
    console.log(`\n${name} failed`);
    console.log("0 passed, 1 failed");
    process.exit(1);
  }
}

console.log("\n== vitest");
// Tests keep their files in temporary directories: a data/ appearing in the checkout means some
// gateway fell back to the product default media.dir (./data/blobs) and is counted as a failure.
const dataBefore = existsSync("data");
const results = ".vitest-results.json";
rmSync(results, { force: true });
const status = run(bin("vitest"), ["run", "--reporter=default", "--reporter=json", `--outputFile.json=${results}`, ...process.argv.slice(2)]);
let passed = 0, failed = 0, skipped = 0;
try {
  const json = JSON.parse(readFileSync(results, "utf8"));
  passed = json.numPassedTests;
  failed = json.numFailedTests + (json.numRuntimeErrorTestSuites ?? 0);
  skipped = json.numPendingTests + json.numTodoTests;
} catch {
  failed = Math.max(failed, 1);
}
if (status !== 0 && failed === 0) failed = 1;
if (!dataBefore && existsSync("data")) {
  console.log("\nthe tests wrote data/ into the checkout (a gateway without media.dir: give it a temporary directory)");
  failed += 1;
}
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(status === 0 && failed === 0 ? 0 : 1);
