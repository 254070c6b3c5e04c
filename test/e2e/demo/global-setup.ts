/**
 * vitest globalSetup of the e2e-demo tier: one complete local deployment per run — the demo's
 * own (scripts/demo/deployment.ts: Prosody, Synapse and Postfix through the harness functions,
 * and Parley from the written config) — on a private Redis with AOF on, so that it is a healthy
 * deployment in every respect `parley doctor` checks. Its coordinates go to the tests as JSON
 * (`inject("demoDeployment")`); everything is stopped in teardown.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { startDeployment } from "../../../scripts/demo/deployment.js";
import { RedisServer } from "../../support/redis-server.js";

export interface DemoDeploymentCoordinates {
  readonly dir: string;
  readonly configPath: string;
  readonly redisUrl: string;
  readonly relayPort: number;
  readonly smtpPort: number;
}

declare module "vitest" {
  export interface ProvidedContext {
    demoDeployment: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const redis = await RedisServer.start({ appendonly: true, extraArgs: ["--maxmemory-policy", "noeviction"] });
  const dir = join(mkdtempSync(join(tmpdir(), "parley-e2e-demo-")), "deployment");
  const d = await startDeployment({ dir, redisUrl: redis.url, progress: () => undefined }).catch(async (e: unknown) => {
    await redis.destroy();
    throw e;
  });
  const coords: DemoDeploymentCoordinates = { dir: d.dir, configPath: d.configPath, redisUrl: redis.url, relayPort: d.mta.smtpPort, smtpPort: d.ports.smtp };
  project.provide("demoDeployment", JSON.stringify(coords));
  return async () => {
    await d.stop();
    await redis.destroy();
    rmSync(join(dir, ".."), { recursive: true, force: true });
  };
}
