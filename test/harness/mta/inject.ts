/** The MTA coordinates the e2e-email globalSetup provides, for use inside tests. */
import { inject } from "vitest";
import type { MtaCoordinates } from "./postfix.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** JSON of {@link MtaCoordinates}. */
    mta: string;
  }
}

export function mtaCoordinates(): MtaCoordinates {
  return JSON.parse(inject("mta")) as MtaCoordinates;
}
