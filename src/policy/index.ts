export * from "./project.js";
export * from "./decide.js";
export * from "./access-policy.js";
