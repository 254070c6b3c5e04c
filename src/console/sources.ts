/** What the console reads and changes: the same services the admin API uses (src/build.ts wires them). */
import type { Registry } from "prom-client";
import type { FailedJobInfo } from "../delivery/types.js";
import type { LiveMappings } from "../mappings/live.js";
import type { PresenceAdmin } from "../presence/admin.js";
import type { TraceReader } from "../trace/reader.js";

export interface LinkHealth {
  readonly name: string;
  readonly ready: boolean;
  readonly detail: string;
}

export interface DeadLetters {
  listFailed(limit?: number): Promise<readonly FailedJobInfo[]>;
  retryFailed(id: string): Promise<boolean>;
  dropFailed(id: string): Promise<boolean>;
  counts(): Promise<Record<string, Record<string, number>>>;
}

export interface ConsoleSources {
  /** The admin token: the console's login asks for it. */
  readonly token: string;
  /** Redis and each network's link, as `/readyz` reports them (`adapter.<network>`). */
  links(): Promise<readonly LinkHealth[]>;
  readonly delivery: DeadLetters;
  readonly traces: TraceReader;
  readonly presence: PresenceAdmin;
  readonly mappings: LiveMappings;
  readonly registry: Registry;
}
