/**
 * A room's events after one Parley was pushed, read forward from it (client-server API
 * `GET /rooms/{roomId}/context/{eventId}` for a token just after it, then
 * `GET /rooms/{roomId}/messages?dir=f`), as a member of the room (the application service's
 * `user_id` masquerade), for the catch-up (catch-up.ts).
 */
import type { MatrixDeps } from "./deps.js";
import { enc, Method } from "./homeserver.js";
import { MatrixEventSchema, type MatrixEvent } from "./types.js";
import { MAX_EVENT_DEPTH, nestsDeeperThan, isObj } from "./untrusted.js";

const PAGE = 100;

interface Page {
  readonly chunk?: unknown[];
  readonly end?: string;
}


/**
 * The events of `roomId` after `eventId`, oldest first, at most `cap`. Events that do not parse
 * are left out (counted in `unreadable`): nothing Parley can deliver, and no sender waiting on a
 * notice for history read back.
 */
export async function eventsAfter(d: MatrixDeps, roomId: string, reader: string, eventId: string, cap: number): Promise<{ events: MatrixEvent[]; unreadable: number }> {
  const room = `/rooms/${enc(roomId)}`;
  const context = await d.hs.request<Page>(reader, Method.Get, `${room}/context/${enc(eventId)}`, undefined, { limit: "0" });
  const events: MatrixEvent[] = [];
  let unreadable = 0;
  let from = context.end;
  for (let seen = 0; seen < cap && from !== undefined;) {
    const page = await d.hs.request<Page>(reader, Method.Get, `${room}/messages`, undefined, { dir: "f", from, limit: String(Math.min(PAGE, cap - seen)) });
    const chunk = page.chunk ?? [];
    for (const raw of chunk) {
      seen++;
      const ev = isObj(raw) && !nestsDeeperThan(raw, MAX_EVENT_DEPTH) ? MatrixEventSchema.safeParse({ room_id: roomId, ...raw }) : undefined;
      if (ev?.success) events.push(ev.data);
      else unreadable++;
    }
    if (chunk.length === 0 || page.end === from) break;
    from = page.end;
  }
  return { events, unreadable };
}
