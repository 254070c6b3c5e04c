/**
 * Users' own block lists (src/adapter/blocks.ts), stored in the owner's access-rules override
 * (`userBlocks`) so every decision that reads the rules (message policy, subscription requests,
 * the presence projection) sees them with no extra read. A change re-sends every watcher its
 * view at once: a newly blocked watcher gets CLOSED, an unblocked one the real state.
 */
import type { BlockPort } from "../adapter/blocks.js";
import { endpointKey, sameEndpoint, type Endpoint } from "../model/address.js";
import type { AccessPolicy } from "../policy/access-policy.js";
import type { DeliveryService } from "../delivery/types.js";
import type { Logger } from "../log/logger.js";
import { fanoutJob } from "./jobs.js";

export const MAX_USER_BLOCKS = 10_000;

export class UserBlocks implements BlockPort {
  constructor(private readonly deps: { readonly policy: AccessPolicy; readonly delivery: Pick<DeliveryService, "enqueue">; readonly log: Logger }) {}

  async list(owner: Endpoint): Promise<readonly Endpoint[]> {
    return (await this.deps.policy.overrideFor(owner))?.userBlocks ?? [];
  }

  async block(owner: Endpoint, who: readonly Endpoint[]): Promise<readonly Endpoint[]> {
    return this.change(owner, "block", (list) => {
      const added = who.filter((w, i) => !list.some((x) => sameEndpoint(x, w)) && who.findIndex((y) => sameEndpoint(y, w)) === i);
      return [...list, ...added].slice(0, MAX_USER_BLOCKS);
    });
  }

  async unblock(owner: Endpoint, who: readonly Endpoint[] | "all"): Promise<readonly Endpoint[]> {
    return this.change(owner, "unblock", (list) => (who === "all" ? [] : list.filter((x) => !who.some((w) => sameEndpoint(x, w)))));
  }

  private async change(owner: Endpoint, op: string, next: (list: readonly Endpoint[]) => Endpoint[]): Promise<readonly Endpoint[]> {
    const after = await this.deps.policy.edit(owner, (before) => {
      const { userBlocks, ...rest } = before ?? {};
      const list = next(userBlocks ?? []);
      return list.length > 0 ? { ...rest, userBlocks: list } : rest;
    });
    const list = after.userBlocks ?? [];
    this.deps.log.info({ audit: "user-blocks", op, owner: endpointKey(owner), count: list.length }, "block list changed");
    await this.deps.delivery.enqueue([fanoutJob(owner, true)]);
    return list;
  }
}
