export * from "./contract.js";
export * from "./state.js";
export * from "./ingress.js";
