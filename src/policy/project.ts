/**
 * The one presence projection (RFC 2779 2.3.3, 3.3.3, 5.2.3): what a watcher may see of a
 * presentity's stored presence. Probe, fetch and notify all call {@link project}, on every read,
 * with the raw stored state; a projected view is never cached or shared between watchers.
 */
import { domainOf, type Endpoint } from "../model/address.js";
import type { AccessRules, Visibility } from "../model/access.js";
import { overallBasic, type Presence } from "../model/presence.js";
import type { SubscriptionState } from "../model/subscription.js";

/** `none`: nothing at all; otherwise the {@link Visibility} the watcher gets. */
export type View = Visibility | "none";

/**
 * The fixed timestamp of the CLOSED view. Polite blocking must not reveal anything (RFC 2779
 * 5.1.15), so the view is the same constant whenever and however often it is computed.
 */
export const CLOSED_VIEW_TIMESTAMP = "1970-01-01T00:00:00.000Z";

/** Whether `watcher` may watch or fetch `presentity` without the presentity deciding (RFC 2779 2.3.2). */
export function autoApproves(rules: AccessRules, watcher: Endpoint, presentity: Endpoint): boolean {
  if (rules.allow.includes(watcher.address)) return true;
  switch (rules.subscribe) {
    case "anyone":
      return true;
    case "same-domain":
      return domainOf(watcher.address) === domainOf(presentity.address);
    case "allow-list":
    case "approval":
      return false;
  }
}

/**
 * What `watcher` sees, given the presentity's rules and the watcher's subscription state
 * (undefined when it has none). Blocked watchers see nothing (RFC 2779 5.1.13); politely blocked
 * ones only ever CLOSED (5.1.15); approved ones (or, for a fetch, anyone the rules let subscribe
 * without asking) their visibility (2.3.1, 2.3.3, 5.2.3); everyone else nothing (5.3.2).
 */
export function viewFor(rules: AccessRules, watcher: Endpoint, presentity: Endpoint, state: SubscriptionState | undefined): View {
  if (rules.blockSubscribers.includes(watcher.address)) return "none";
  if (state === "politely-blocked" || rules.politelyBlocked.includes(watcher.address)) return "closed";
  const visible = state === "approved" || (state === undefined && autoApproves(rules, watcher, presentity));
  if (!visible) return "none";
  return rules.visibility[watcher.address] ?? rules.defaultVisibility;
}

/** The CLOSED view: one closed tuple with a constant timestamp, version and provenance. */
export function closedView(presentity: Endpoint): Presence {
  return {
    presentity,
    tuples: [{ id: "parley", service: "im", basic: "closed", timestamp: CLOSED_VIEW_TIMESTAMP }],
    version: 0,
    provenance: { source: "gateway" },
    extensions: {},
  };
}

function latestTimestamp(p: Presence): string {
  let latest = p.tuples[0]?.timestamp ?? CLOSED_VIEW_TIMESTAMP;
  for (const t of p.tuples) if (Date.parse(t.timestamp) > Date.parse(latest)) latest = t.timestamp;
  return latest;
}

/** OPEN/CLOSED only: one aggregated tuple; no show, note, person data or extensions. */
export function basicView(p: Presence): Presence {
  return {
    presentity: p.presentity,
    tuples: [{ id: "basic", service: "im", basic: overallBasic(p), timestamp: latestTimestamp(p) }],
    version: p.version,
    provenance: { source: p.provenance.source },
    extensions: {},
  };
}

/** A fresh deep copy, so no caller can alter the stored state or another watcher's view. */
function fullView(p: Presence): Presence {
  return structuredClone(p);
}

/**
 * THE projection: `presence` (the raw stored state, or undefined when none is known) as `watcher`
 * may see it, or undefined when it may see nothing. Pure: same inputs, same output.
 */
export function project(presence: Presence | undefined, watcher: Endpoint, rules: AccessRules, state: SubscriptionState | undefined): Presence | undefined {
  if (presence === undefined) return undefined;
  const view = viewFor(rules, watcher, presence.presentity, state);
  switch (view) {
    case "none":
      return undefined;
    case "closed":
      return closedView(presence.presentity);
    case "basic":
      return basicView(presence);
    case "full":
      return fullView(presence);
  }
}
