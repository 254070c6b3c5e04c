export * from "./hops.js";
export * from "./keys.js";
export * from "./writer.js";
export * from "./tracer.js";
export * from "./reader.js";
export * from "./format.js";
