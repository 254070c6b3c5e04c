export * from "./contract.js";
export * from "./state.js";
