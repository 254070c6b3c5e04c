/**
 * vitest globalSetup of the root config: one loopback canary for the whole run, every project
 * (issue 13: "a canary listener on loopback records zero connections across the whole suite").
 * Every hostile URL in any project's tests points at its port (`projectCanary()`); a test reads the count so far over a separate
 * loopback port, and teardown fails the run when anything connected, so a fetch that slipped past
 * the address guard in any file, at any time, is caught.
 */
import { createServer } from "node:http";
import type { TestProject } from "vitest/node";
import { startCanary } from "./canary.js";

declare module "vitest" {
  export interface ProvidedContext {
    canary: { port: number; countPort: number };
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const canary = await startCanary();
  const counter = createServer((_req, res) => res.end(String(canary.connections())));
  await new Promise<void>((r) => counter.listen(0, "127.0.0.1", r));
  project.provide("canary", { port: canary.port, countPort: (counter.address() as { port: number }).port });
  return async () => {
    const reached = canary.connections();
    await canary.close();
    await new Promise<void>((r) => counter.close(() => r()));
    if (reached > 0) throw new Error(`the loopback canary of this test run (${project.name || "all projects"}) was reached ${reached} time(s): a fetch got past the address guard`);
  };
}
