/**
 * vitest globalSetup of the e2e-email tier: one private Postfix per run (test/harness/mta/postfix.ts),
 * its coordinates provided to tests as JSON under `mta` (read them with `mtaCoordinates()` from
 * ./inject.ts), stopped and removed in teardown.
 */
import type { TestProject } from "vitest/node";
import { configureMta, ensurePostfix, removeMta, startMta, stopMta } from "./postfix.js";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  await ensurePostfix();
  const mta = await configureMta();
  await startMta(mta);
  project.provide("mta", JSON.stringify(mta));
  return async () => {
    await stopMta(mta);
    if (!process.env.PARLEY_KEEP_MTA) removeMta(mta);
  };
}
