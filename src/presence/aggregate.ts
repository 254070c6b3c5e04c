/**
 * How updates combine into the one stored presence of a presentity (DESIGN §4, docs/presence.md).
 * An update carries the tuples that changed (an XMPP resource, the one Matrix per-user tuple);
 * they replace the stored tuples with the same id. An update with no tuples closes every tuple.
 * Per service (im, email, …), while any tuple is open, closed tuples are dropped; when none is,
 * only the most recent closed tuple is kept, so a fetch while OUT OF CONTACT answers CLOSED with the last time (RFC 2779 3.2.1).
 */
import { overallBasic, type Presence, type Tuple } from "../model/presence.js";

const MAX_TUPLES = 64;

function newest(tuples: readonly Tuple[]): Tuple | undefined {
  let best: Tuple | undefined;
  for (const t of tuples) if (best === undefined || Date.parse(t.timestamp) >= Date.parse(best.timestamp)) best = t;
  return best;
}

/** Every tuple of `p` closed at `at` (for a goodbye without tuples, or a liveness timeout). */
export function closeAll(tuples: readonly Tuple[], at: string): Tuple[] {
  if (tuples.length === 0) return [{ id: "parley", service: "im", basic: "closed", timestamp: at }];
  return tuples.map((t) => ({ ...t, basic: "closed" as const, show: undefined, timestamp: at }));
}

/**
 * Per communication means (RFC 2779 4.4.3: IM may be CLOSED while email is OPEN): the open tuples
 * of a service, or, when none is open, its newest closed one.
 */
export function mergeTuples(previous: readonly Tuple[], incoming: readonly Tuple[], at: string): Tuple[] {
  const byId = new Map<string, Tuple>(previous.map((t) => [t.id, t]));
  if (incoming.length === 0) return [newest(closeAll(previous, at))!];
  for (const t of incoming) byId.set(t.id, t);
  const byService = new Map<string, Tuple[]>();
  for (const t of byId.values()) byService.set(t.service, [...(byService.get(t.service) ?? []), t]);
  const kept: Tuple[] = [];
  for (const tuples of byService.values()) {
    const open = tuples.filter((t) => t.basic === "open");
    kept.push(...(open.length > 0 ? open : [newest(tuples)!]));
  }
  // Newest first when over the bound, so a flood of resources cannot grow the record.
  return kept.sort((a, b) => Date.parse(b.timestamp) - Date.parse(a.timestamp)).slice(0, MAX_TUPLES);
}

/**
 * The stored presence after `incoming`; `seq` is the store's own sequence for this presentity,
 * which becomes the version watchers see (the origin's versions only gate staleness).
 */
export function aggregate(previous: Presence | undefined, incoming: Presence, seq: number, at: string): Presence {
  const tuples = mergeTuples(previous?.tuples ?? [], incoming.tuples, at);
  const merged: Presence = {
    presentity: incoming.presentity,
    tuples,
    version: seq,
    provenance: incoming.provenance,
    extensions: Object.keys(incoming.extensions).length > 0 ? incoming.extensions : (previous?.extensions ?? {}),
  };
  const person = incoming.person ?? previous?.person;
  if (person !== undefined) merged.person = person;
  const accepts = incoming.acceptsMessages ?? previous?.acceptsMessages;
  if (accepts !== undefined) merged.acceptsMessages = accepts;
  return merged;
}

export function isOpen(p: Presence | undefined): boolean {
  return p !== undefined && overallBasic(p) === "open";
}
