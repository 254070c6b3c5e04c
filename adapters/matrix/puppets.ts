/**
 * Puppets (issue 4 step 3): a foreign user's Matrix user in Parley's exclusive namespace,
 * registered on first use (Matrix spec, Application Service API "Server admin style permissions":
 * `POST /register` with `m.login.application_service`) with the canonical address as display name.
 */
import type { AdapterStateStore } from "../../src/adapter/state.js";
import { errcodeOf } from "./errors.js";
import { enc, Method, type Homeserver } from "./homeserver.js";

export class Puppets {
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(private readonly hs: Homeserver, private readonly state: AdapterStateStore, private readonly botUserId: () => string) {}

  /** Make sure `userId` exists with `displayName`; cheap after the first call (a Redis read). */
  async ensure(userId: string, displayName: string): Promise<void> {
    if ((await this.state.get(`puppet:${userId}`)) === displayName) return;
    let p = this.inFlight.get(userId);
    if (!p) {
      p = this.create(userId, displayName).finally(() => this.inFlight.delete(userId));
      this.inFlight.set(userId, p);
    }
    await p;
  }

  private async create(userId: string, displayName: string): Promise<void> {
    const localpart = userId.slice(1, userId.indexOf(":"));
    try {
      await this.hs.request(this.botUserId(), Method.Post, "/register", { type: "m.login.application_service", username: localpart, inhibit_login: true });
    } catch (e) {
      if (errcodeOf(e) !== "M_USER_IN_USE") throw e;
    }
    await this.hs.request(userId, Method.Put, `/profile/${enc(userId)}/displayname`, { displayname: displayName });
    await this.state.set(`puppet:${userId}`, displayName);
    // A new puppet has no name or avatar of its person yet (puppet-profile.ts applies them again).
    await this.state.delete(`profile:${userId}`);
  }
}
