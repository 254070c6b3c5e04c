/**
 * Guards for values a homeserver hands Parley (issue 11, class 2: poison transactions). A number
 * or a nesting that no real client produces must cost one event at most, never the transaction:
 * - nesting depth is measured without recursion, before anything recursive (zod, JSON.stringify,
 *   the HTML sanitiser) touches the event;
 * - timestamps and durations outside a sane window are treated as absent instead of reaching
 *   `new Date(…).toISOString()`, which throws `Invalid time value`.
 */

/** A JSON object (not an array, not null): what an event or its content must be before its fields are read. */
export const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Deepest nesting an event may have (a real `m.room.message` is under 10). */
export const MAX_EVENT_DEPTH = 32;

/** Whether `value` nests arrays/objects deeper than `max` (iterative; stops at the first excess). */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== "object" || v === null) continue;
    if (depth + 1 > max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) if (typeof child === "object" && child !== null) stack.push([child, depth + 1]);
  }
  return false;
}

/** ±30 years around now: anything outside is not a clock reading. */
const WINDOW_MS = 30 * 365 * 86_400_000;

/** An ISO time for a homeserver's millisecond timestamp, or undefined when it is not plausible. */
export function plausibleTime(ms: unknown, now = Date.now()): string | undefined {
  if (typeof ms !== "number" || !Number.isFinite(ms) || Math.abs(ms - now) > WINDOW_MS) return undefined;
  return new Date(ms).toISOString();
}

/** A non-negative duration in ms (e.g. `last_active_ago`), or undefined when it is not plausible. */
export function plausibleDuration(ms: unknown): number | undefined {
  return typeof ms === "number" && Number.isFinite(ms) && ms >= 0 && ms <= WINDOW_MS ? ms : undefined;
}
