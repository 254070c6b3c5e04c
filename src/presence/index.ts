export { PresenceService } from "./service.js";
export type { PresenceServiceOptions } from "./context.js";
export { PresenceAdmin, presenceAdminRoutes, formatPresenceShow, formatSubscriptionListing, type PresenceShow, type SubscriptionListing } from "./admin.js";
export { fanoutJob, notifyJob, subscriptionJob } from "./jobs.js";
export { UserBlocks } from "./blocks.js";
