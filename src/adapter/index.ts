export * from "./contract.js";
export * from "./declarations.js";
export * from "./presence.js";
export * from "./state.js";
export * from "./ingress.js";
export * from "./classify.js";
export * from "./features.js";
