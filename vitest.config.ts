/**
 * Test tiers (STYLE habit 12). Each e2e tier starts its real peers once per run in a globalSetup
 * (test/harness/<peer>/global-setup.ts) and stops them at the end.
 *   unit         pure logic, fakes allowed
 *   contract     the one suite every adapter passes
 *   integration  the core on the real local Redis (unique key prefix per test)
 *   e2e-*        real Prosody / Synapse / Postfix with real clients; one project per folder
 *                with an e2e.project.json (a network's e2e tests bring their own)
 */
import { defineConfig } from "vitest/config";
import { discoverE2eProjects } from "./test/e2e-projects.js";

/** Issue 13: one loopback canary for the whole run, every project, that must never be reached (test/support/canary-global.ts). */
const CANARY = "test/support/canary-global.ts";
const e2eDefaults = { testTimeout: 60_000, hookTimeout: 300_000, fileParallelism: false } as const;

export default defineConfig({
  test: {
    reporters: ["default"],
    globalSetup: [CANARY],
    projects: [
      { test: { name: "unit", include: ["test/unit/**/*.test.ts"] } },
      { test: { name: "contract", include: ["test/contract/**/*.test.ts"] } },
      { test: { name: "integration", include: ["test/integration/**/*.test.ts"], exclude: ["test/integration/docker/**"], testTimeout: 120_000, hookTimeout: 60_000, fileParallelism: false } },
      // One project per folder with an e2e.project.json (test/e2e-projects.ts): each network's own.
      ...discoverE2eProjects().map((p) => ({ test: { name: p.name, include: [...p.include], globalSetup: [...p.globalSetup], ...e2eDefaults, ...(p.testTimeout ? { testTimeout: p.testTimeout } : {}) } })),
      { test: { name: "e2e-cross", include: ["test/e2e/cross/**/*.test.ts"], globalSetup: ["test/harness/prosody/global-setup.ts", "test/harness/synapse/global-setup.ts", "test/harness/mta/global-setup.ts"], ...e2eDefaults } },
      // issue 10: faults injected into its own Prosody, Synapse, Postfix, Redis and Parley processes.
      { test: { name: "e2e-chaos", include: ["test/chaos/**/*.test.ts"], ...e2eDefaults, testTimeout: 400_000 } },
      // issue 7: the demo (its own peers, spawned) and `parley doctor` against one shared healthy deployment.
      { test: { name: "e2e-demo", include: ["test/e2e/demo/**/*.test.ts", "test/e2e/doctor/**/*.test.ts"], globalSetup: ["test/e2e/demo/global-setup.ts"], ...e2eDefaults, testTimeout: 240_000 } },
      // issue 7: the Dockerfile's build steps rehearsed on the host (two npm ci: slow, kept apart).
      { test: { name: "docker", include: ["test/integration/docker/**/*.test.ts"], testTimeout: 600_000, hookTimeout: 60_000 } },
    ],
  },
});
