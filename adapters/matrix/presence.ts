/**
 * Presence both ways (issue 4 step 5; Matrix spec, client-server API "Presence"; RFC 2779
 * requirements note §3.2 for the mapping):
 * - Matrix → canonical: `online` → open; `unavailable` → open + away + idle; `offline` → closed;
 *   `status_msg` → note[und]; `last_active_ago` → userInput.lastInput.
 * - canonical → Matrix: most available tuple; open + (none|chat) → `online`, open + away/xa/dnd →
 *   `unavailable`, closed or nothing → `offline`; a note → `status_msg`.
 *
 * Matrix presence is per user and shown to everyone sharing a room with it (RFC 2779 5.2.1), so a
 * puppet publishes the least available state any Matrix user sharing a DM with it may see
 * (its partners, kept by rooms.ts), each asked through ctx.presenceFor.
 * Puppets never /sync: Synapse marks a user offline `sync_online_timeout` (30 s) after its last
 * presence update (handlers/presence.py, handle_timeout), so online/unavailable puppets are
 * refreshed every `presenceRefreshSeconds` by one process of the deployment (a lease), from the
 * live set in Redis (live-puppets.ts), so a restart or another process keeps them online.
 */
import type { PresenceEvent } from "../../src/model/events.js";
import type { Endpoint } from "../../src/model/address.js";
import { PresenceSchema, type Presence } from "../../src/model/presence.js";
import type { PresenceNotification } from "../../src/adapter/presence.js";
import { fromNative } from "./address.js";
import type { MatrixDeps } from "./deps.js";
import { classify } from "./errors.js";
import { enc, Method } from "./homeserver.js";
import { localUserId, nativeOrFail } from "./outbound.js";
import { plausibleDuration } from "./untrusted.js";
import { LivePuppets, sameState, type MatrixPresence, type PuppetState } from "./live-puppets.js";

export type { MatrixPresence } from "./live-puppets.js";

const RANK: Record<MatrixPresence, number> = { offline: 0, unavailable: 1, online: 2 };

export function presenceFromMatrix(who: Endpoint, content: Record<string, unknown>, now = Date.now()): PresenceEvent | undefined {
  const state = content.presence;
  if (state !== "online" && state !== "unavailable" && state !== "offline") return undefined;
  const ago = plausibleDuration(content.last_active_ago);
  const lastInput = ago !== undefined ? new Date(now - ago).toISOString() : undefined;
  const note = typeof content.status_msg === "string" && content.status_msg !== "" ? { und: content.status_msg.slice(0, 4096) } : undefined;
  const idle = state === "unavailable" || (state === "online" && content.currently_active === false);
  const parsed = PresenceSchema.safeParse({
    presentity: who,
    tuples: [{ id: "matrix", basic: state === "offline" ? "closed" : "open", ...(state === "unavailable" ? { show: "away" } : {}), ...(note ? { note } : {}), timestamp: new Date(now).toISOString() }],
    person: { userInput: { state: idle ? "idle" : "active", ...(lastInput ? { lastInput } : {}) } },
    version: now,
    provenance: { source: "origin" },
  });
  return parsed.success ? { kind: "presence", presence: parsed.data, authenticatedBy: { method: "network", detail: "application service hs_token" } } : undefined;
}

export function matrixPresenceOf(p: Presence | undefined): { presence: MatrixPresence; status_msg?: string } {
  if (!p) return { presence: "offline" };
  const open = p.tuples.filter((t) => t.basic === "open");
  if (open.length === 0) return { presence: "offline" };
  const best = open.find((t) => t.show === undefined || t.show === "chat") ?? open[0]!;
  const presence: MatrixPresence = best.show === undefined || best.show === "chat" ? "online" : "unavailable";
  const notes = best.note ?? p.person?.note;
  const text = notes ? (notes.en ?? notes.und ?? Object.values(notes)[0]) : undefined;
  return text !== undefined ? { presence, status_msg: text } : { presence };
}

export async function setPuppetPresence(d: MatrixDeps, puppet: string, state: { presence: MatrixPresence; status_msg?: string }): Promise<void> {
  await d.hs.request(puppet, Method.Put, `/presence/${enc(puppet)}/status`, { presence: state.presence, status_msg: state.status_msg ?? "" });
}

export class PuppetPresence {
  /** Puppets kept online, shared by every process (Redis): refreshed on a timer because they never /sync. */
  readonly live: LivePuppets;
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;

  constructor(private readonly d: MatrixDeps) {
    this.live = new LivePuppets(d.ctx.state);
  }

  /** Refresh on a timer; one process of the deployment at a time holds the refresh lease. */
  start(): void {
    const s = this.d.config.presenceRefreshSeconds;
    if (s > 0) this.timer = setInterval(() => { this.refreshing ??= this.tick(s * 3000).finally(() => { this.refreshing = undefined; }); }, s * 1000);
    this.timer?.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.refreshing;
    await this.live.release().catch(() => undefined);
  }

  /** Per-puppet chains: every change of a puppet's presence runs after the previous one. */
  private readonly chains = new Map<string, Promise<void>>();

  /**
   * Run `work` after any presence change of `puppet` in flight. Without this a refresh that read
   * "online" could land after a change that lowered the puppet for privacy (RFC 2779 5.2.1) and
   * show it again.
   */
  private serial(puppet: string, work: () => Promise<void>): Promise<void> {
    const next = (this.chains.get(puppet) ?? Promise.resolve()).catch(() => undefined).then(work);
    this.chains.set(puppet, next);
    const forget = () => { if (this.chains.get(puppet) === next) this.chains.delete(puppet); };
    next.then(forget, forget);
    return next;
  }

  private async tick(leaseMs: number): Promise<void> {
    try {
      if (await this.live.refresher(leaseMs)) await this.refresh();
    } catch (e) {
      this.d.log.warn({ err: classify(e, "refreshing presence").message }, "presence refresh failed");
    }
  }

  /** Re-send every live puppet's presence (the holder of the refresh lease). */
  async refresh(): Promise<number> {
    let n = 0;
    for await (const [puppet] of this.live.all()) {
      await this.serial(puppet, () => this.resend(puppet)).catch((e: unknown) => this.d.log.warn({ err: classify(e, "refreshing presence").message }, "presence refresh failed"));
      n++;
    }
    return n;
  }

  /**
   * Send what the shared set says, then read it again: a change another process made meanwhile
   * (written to the set before it is sent) is sent again, so a refresh never leaves it undone.
   */
  private async resend(puppet: string): Promise<void> {
    let sent = await this.live.get(puppet);
    for (let i = 0; i < 3 && sent; i++) {
      await setPuppetPresence(this.d, puppet, sent);
      const now = await this.live.get(puppet);
      if (sameState(now, sent)) return;
      if (!now) return setPuppetPresence(this.d, puppet, { presence: "offline" }); // taken offline meanwhile
      sent = now;
    }
  }

  /** Write the shared set first, then the homeserver (see {@link resend}). */
  private async show(puppet: string, state: PuppetState): Promise<void> {
    await this.live.set(puppet, state);
    await setPuppetPresence(this.d, puppet, state);
  }

  /**
   * A Matrix user now shares a DM with `puppet` (RFC 2779 5.2.1): if they may see less than the
   * puppet shows, the puppet shows less, at once.
   */
  partnerAdded(puppet: string, user: string): Promise<void> {
    return this.serial(puppet, async () => {
      const current = await this.live.get(puppet);
      if (!current) return;
      const d = this.d;
      const mappings = d.ctx.mappings();
      const theirs = matrixPresenceOf(await d.ctx.presenceFor(fromNative(user, mappings), fromNative(puppet, mappings)));
      if (RANK[theirs.presence] >= RANK[current.presence]) return;
      await this.show(puppet, theirs);
    });
  }

  async deliver(n: PresenceNotification): Promise<void> {
    const d = this.d;
    const watcher = localUserId(d, n.watcher);
    const puppet = nativeOrFail(d, n.presence.presentity);
    try {
      await d.puppets.ensure(puppet, n.presence.presentity.address);
      d.profiles.follow(puppet, n.presence.presentity, n.presence.extensions);
      // Presence shows only to users sharing a room with the puppet: the DM is that room.
      await d.rooms.dm(puppet, watcher, "dm");
      await this.serial(puppet, async () => {
        let state = matrixPresenceOf(n.presence);
        for (const other of await d.rooms.partners(puppet)) {
          if (other === watcher) continue;
          const theirs = matrixPresenceOf(await d.ctx.presenceFor(fromNative(other, d.ctx.mappings()), n.presence.presentity));
          if (RANK[theirs.presence] < RANK[state.presence]) state = theirs;
        }
        await this.show(puppet, state);
      });
    } catch (e) {
      throw classify(e, "setting presence");
    }
  }
}
