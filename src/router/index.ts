/** Routing by the admin's domain mappings (DESIGN §1). */
export { route, policyFor, listedDomain, type RouteKind, type RouteResult } from "./route.js";
