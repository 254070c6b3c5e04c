/**
 * vitest globalSetup of the e2e-xmpp project: one private Prosody per test run, its coordinates
 * handed to tests through provide/inject (`inject("prosody")`), stopped in teardown.
 */
import type { TestProject } from "vitest/node";
import { prepareProsody, removeProsodyDir, startProsody, stopProsody, type ProsodyCoordinates } from "./prosody.js";

declare module "vitest" {
  export interface ProvidedContext {
    prosody: ProsodyCoordinates;
  }
}

/** Users every e2e test file may use; files needing more call registerUser() with their own names. */
export const PROSODY_TEST_USERS = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "trent", "peggy"];

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const coords = await prepareProsody({
    userDomain: "xmpp.test",
    componentDomains: ["matrix.test", "matrix.gw.test", "email.gw.test"],
    users: PROSODY_TEST_USERS,
    harnessModules: true,
  });
  await startProsody(coords);
  project.provide("prosody", coords);
  return async () => {
    await stopProsody(coords);
    if (!process.env.PARLEY_KEEP_PEER_DIRS) removeProsodyDir(coords);
  };
}
