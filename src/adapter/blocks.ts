/**
 * The block-list capability the core offers adapters as `ctx.blocks` (issue 15): a user's own
 * blocks, one canonical list per owner whatever network they use to edit it (the XMPP blocking
 * command XEP-0191, the Matrix bridge bot's `block`). A blocked party is refused as a sender with
 * the neutral "policy" answer and sees the owner's presence as CLOSED (polite blocking, RFC 2779
 * 2.3.5, 5.1.15, 5.4.10); the admin's access rules still apply and the owner cannot lift them.
 */
import type { Endpoint } from "../model/address.js";

export interface BlockPort {
  /** The endpoints `owner` blocks, in the order they were added. */
  list(owner: Endpoint): Promise<readonly Endpoint[]>;
  /** Add to `owner`'s blocks (already blocked ones are kept once); returns the new list. */
  block(owner: Endpoint, who: readonly Endpoint[]): Promise<readonly Endpoint[]>;
  /** Remove from `owner`'s blocks; `"all"` empties the list. Returns the new list. */
  unblock(owner: Endpoint, who: readonly Endpoint[] | "all"): Promise<readonly Endpoint[]>;
}
