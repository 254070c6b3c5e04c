export * from "./types.js";
export { BullDeliveryService, createDeliveryService } from "./service.js";
export type { DeliveryServiceOptions } from "./options.js";
export { createDeliveryMetrics, type DeliveryMetrics } from "./metrics.js";
export { backoffDelay, retryBudgetMs, DEFAULT_RETRY, type RetryPolicy } from "./backoff.js";
export { jobIdForKey, keyForJobId, queueName, JOB_KINDS } from "./names.js";
