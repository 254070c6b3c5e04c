/**
 * vitest globalSetup of the e2e-matrix tier: one Synapse per run, with a few application-service
 * registrations ("slots") so each test file has its own namespace, tokens and listener port and
 * nothing one file leaves queued in the homeserver reaches the next. Coordinates are provided to
 * tests as `inject("synapse")`; Synapse is stopped in teardown.
 */
import type { TestProject } from "vitest/node";
import { startSynapseWithSlots, type SynapseCoordinates } from "./slots.js";

declare module "vitest" {
  export interface ProvidedContext {
    synapse: SynapseCoordinates;
  }
}

/**
 * Synapse's presence sync timeout for the tier: 8 s instead of 30 s, so the test that a puppet's
 * presence survives it (the adapter refreshes it) runs in seconds. Provided to tests as well.
 */
export const PRESENCE_TIMEOUT_MS = 8_000;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const serverName = process.env.PARLEY_TEST_MATRIX_SERVER ?? "matrix.example.org";
  const { coordinates, stop } = await startSynapseWithSlots({ serverName, slots: 20, presenceSyncOnlineTimeoutMs: PRESENCE_TIMEOUT_MS });
  project.provide("synapse", coordinates);
  return stop;
}
