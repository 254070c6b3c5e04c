/** vitest globalSetup of the e2e-console project: Chromium installed once per run, its path provided. */
import type { TestProject } from "vitest/node";
import { ensureChromium } from "./chromium.js";

declare module "vitest" {
  export interface ProvidedContext {
    chromium: string;
  }
}

export default function setup(project: TestProject): void {
  project.provide("chromium", ensureChromium());
}
