/** The admin's domain mappings: loading and validation (docs/mappings.md). */
export { loadMappingsFile, parseMappings, MappingsError, type KnownNetwork, type MappingsResult } from "./load.js";
export { defaultPolicy } from "./schema.js";
export { LiveMappings, type ApplyResult } from "./live.js";
export { MappingsVersions } from "./versions.js";
export type * from "./types.js";
