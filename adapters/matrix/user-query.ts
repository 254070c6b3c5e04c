/**
 * The homeserver's user query (Application Service API, `GET /_matrix/app/v1/users/{userId}`):
 * "does this puppet exist?". Parley registers the puppet on the spot and answers 200; a user id
 * that is no puppet of Parley's (or one the homeserver refuses for good) is 404 `M_NOT_FOUND`.
 * A failure that may pass (Redis or the homeserver unreachable, rate limits) must not tell the
 * homeserver "no such user": it is answered 503, so the homeserver asks again later.
 */
import type { DomainMappings } from "../../src/mappings/types.js";
import { fromNative } from "./address.js";
import { MATRIX } from "./config.js";
import { classify } from "./errors.js";
import type { HttpReply } from "./types.js";
import type { Logger } from "../../src/log/logger.js";

export interface UserQueryDeps {
  readonly mappings: () => DomainMappings;
  /** Register the puppet `userId` with `displayName` (Puppets.ensure). */
  readonly ensure: (userId: string, displayName: string) => Promise<void>;
  readonly log: Logger;
}

const NOT_FOUND: HttpReply = { status: 404, body: { errcode: "M_NOT_FOUND", error: "no such puppet" } };

export async function answerUserQuery(d: UserQueryDeps, userId: string): Promise<HttpReply> {
  let address: string;
  try {
    const who = fromNative(userId, d.mappings());
    if (who.network === MATRIX) return NOT_FOUND;
    address = who.address;
  } catch {
    return NOT_FOUND;
  }
  try {
    await d.ensure(userId, address);
    return { status: 200, body: {} };
  } catch (e) {
    const failure = classify(e, "registering the puppet");
    if (failure.failureClass === "permanent") return NOT_FOUND;
    d.log.warn({ userId, reason: failure.reason, err: failure.message }, "user query failed for now; the homeserver may ask again");
    return { status: 503, body: { errcode: "M_UNKNOWN", error: "the gateway cannot answer right now; try again later" } };
  }
}
