export * from "./codes.js";
export * from "./parley-error.js";
