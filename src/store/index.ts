export * from "./redis.js";
export * from "./keys.js";
export * from "./adapter-state.js";
export * from "./id-map.js";
export * from "./claims.js";
export * from "./durability.js";
export * from "./slots.js";
export * from "./processes.js";
