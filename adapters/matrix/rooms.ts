/**
 * Direct-message rooms between a puppet (or the bot) and one Matrix user (issue 4 step 3; Matrix
 * spec, client-server API "Direct Messaging"): created by the puppet with `is_direct`, recorded
 * in the puppet's `m.direct` account data, persisted in the adapter state. A room the Matrix user
 * left is forgotten, so the next message opens a fresh one (FIELD.md, "Abandoned rooms").
 *
 * State keys: `dm:<owner>|<user>` → room id; `room:<roomId>` → {@link RoomRecord} JSON;
 * `partners:<owner>` → JSON list of the Matrix users the owner shares a DM with (RFC 2779 5.2.1).
 */
import { randomBytes } from "node:crypto";
import type { AdapterStateStore } from "../../src/adapter/state.js";
import { DeliveryError } from "../../src/adapter/contract.js";
import { errcodeOf, httpStatusOf } from "./errors.js";
import { enc, Method, type Homeserver } from "./homeserver.js";

/** How long one process may take to create a DM before another may try. */
const CREATE_LEASE_MS = 30_000;

export interface RoomRecord {
  /** `dm`: a puppet's conversation with a Matrix user; `bot`: the bridge bot's DM with one. */
  readonly kind: "dm" | "bot";
  /** The puppet or the bot. */
  readonly owner: string;
  /** The Matrix user. */
  readonly user: string;
}

export class Rooms {
  private readonly inFlight = new Map<string, Promise<string>>();
  /** Called when `user` starts sharing a DM with `owner` (presence re-checks RFC 2779 5.2.1). */
  onPartnerAdded: ((owner: string, user: string) => Promise<void>) | undefined;

  /** This process's name for leases. */
  private readonly holder = `rooms-${process.pid}-${randomBytes(4).toString("hex")}`;

  constructor(private readonly hs: Homeserver, private readonly state: AdapterStateStore) {}

  async record(roomId: string): Promise<RoomRecord | undefined> {
    const raw = await this.state.get(`room:${roomId}`);
    return raw === undefined ? undefined : (JSON.parse(raw) as RoomRecord);
  }

  async existing(owner: string, user: string): Promise<string | undefined> {
    return this.state.get(`dm:${owner}|${user}`);
  }

  /** The DM room of `owner` with `user`, created (and the user invited) when there is none. */
  async dm(owner: string, user: string, kind: RoomRecord["kind"]): Promise<string> {
    const known = await this.existing(owner, user);
    if (known !== undefined) return known;
    const key = `${owner}|${user}`;
    let p = this.inFlight.get(key);
    if (!p) {
      p = this.createOnce(owner, user, kind).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, p);
    }
    return p;
  }

  /**
   * Several Parley processes may deliver the first message of a pair at once (DESIGN §6): one of
   * them creates the room under a lease; the others wait for its record.
   */
  private async createOnce(owner: string, user: string, kind: RoomRecord["kind"]): Promise<string> {
    const lease = `create-dm:${owner}|${user}`;
    const deadline = Date.now() + CREATE_LEASE_MS;
    while (!(await this.state.lease(lease, this.holder, CREATE_LEASE_MS))) {
      const made = await this.existing(owner, user);
      if (made !== undefined) return made;
      if (Date.now() > deadline) throw new DeliveryError("transient", "unavailable", "another Parley process is creating this room");
      await new Promise((r) => setTimeout(r, 100)); // polling another process's record, not a sync-by-sleep
    }
    try {
      return (await this.existing(owner, user)) ?? (await this.create(owner, user, kind));
    } finally {
      await this.state.releaseLease(lease, this.holder);
    }
  }

  private async create(owner: string, user: string, kind: RoomRecord["kind"]): Promise<string> {
    // Synapse accepts invites to local users that do not exist: ask for the profile first
    // (client-server API "GET /profile/{userId}": 404 when there is no such user).
    await this.hs.request(owner, Method.Get, `/profile/${enc(user)}`).catch((e: unknown) => {
      if (httpStatusOf(e) === 404) throw new DeliveryError("permanent", "recipient-unknown", `${user} does not exist`, { nativeDetail: `${errcodeOf(e) ?? ""} 404`, cause: e });
    });
    const { room_id: roomId } = await this.hs.request<{ room_id: string }>(owner, Method.Post, "/createRoom", {
      preset: "trusted_private_chat", is_direct: true, invite: [user], visibility: "private",
    });
    await this.adopt(roomId, { kind, owner, user });
    return roomId;
  }

  /** Record `roomId` as the DM of its owner and user (a created room or an accepted invite). */
  async adopt(roomId: string, rec: RoomRecord): Promise<void> {
    await this.state.set(`room:${roomId}`, JSON.stringify(rec));
    await this.state.set(`dm:${rec.owner}|${rec.user}`, roomId);
    const added = await this.updatePartners(rec.owner, (list) => (list.includes(rec.user) ? list : [...list, rec.user]));
    if (added && rec.kind === "dm") await this.onPartnerAdded?.(rec.owner, rec.user);
    await this.setDirect(rec.owner, rec.user, roomId).catch(() => undefined); // m.direct is a hint for clients only
  }

  private async setDirect(owner: string, user: string, roomId: string): Promise<void> {
    const path = `/user/${enc(owner)}/account_data/m.direct`;
    const current = await this.hs.request<Record<string, string[]>>(owner, Method.Get, path).catch((): Record<string, string[]> => ({}));
    const rooms = [...new Set([...(current[user] ?? []), roomId])];
    await this.hs.request(owner, Method.Put, path, { ...current, [user]: rooms });
  }

  /** The Matrix user left (or the room cannot be used): forget it and let the owner leave too. */
  async abandon(roomId: string): Promise<void> {
    const rec = await this.record(roomId);
    if (!rec) return;
    if ((await this.existing(rec.owner, rec.user)) === roomId) {
      await this.state.delete(`dm:${rec.owner}|${rec.user}`);
      await this.updatePartners(rec.owner, (list) => list.filter((u) => u !== rec.user));
    }
    await this.state.delete(`room:${roomId}`);
    await this.hs.request(rec.owner, Method.Post, `/rooms/${enc(roomId)}/leave`, {}).catch(() => undefined);
  }

  /** The Matrix users `owner` shares a DM with. */
  async partners(owner: string): Promise<string[]> {
    const raw = await this.state.get(`partners:${owner}`);
    return raw ? (JSON.parse(raw) as string[]) : [];
  }

  /** Change the partner list; true when it changed. */
  private async updatePartners(owner: string, f: (list: string[]) => string[]): Promise<boolean> {
    const before = await this.partners(owner);
    const after = f(before);
    if (after.length === before.length) return false;
    await this.state.set(`partners:${owner}`, JSON.stringify(after));
    return true;
  }

  /** Forget a room only if it is still the current DM (used when a send finds it unusable). */
  async forgetIfCurrent(owner: string, user: string, roomId: string): Promise<void> {
    if ((await this.existing(owner, user)) === roomId) await this.state.delete(`dm:${owner}|${user}`);
  }
}
