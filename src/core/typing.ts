/**
 * The best-effort path for typing notices (issue 18; DESIGN §8 "typing and read markers later,
 * never at the cost of message delivery"). A typing change never enters Redis or a delivery
 * queue: it is kept in memory for at most one interval, coalesced per conversation (the newest
 * state replaces a waiting one), rate-limited to one notice per conversation per interval, and
 * sent straight to the target adapter's `deliverTyping` without waiting and without retries.
 * A notice this process cannot send now (no ready adapter here, a target that cannot show typing,
 * a blocked sender) is dropped and counted. In a bridged room (issue 18 in rooms) a member's typing
 * goes to every other native room of the canonical room, under the same limits per (room, member).
 */
import { Counter, type Registry } from "prom-client";
import type { AcceptResult, AdapterCapabilities } from "../adapter/contract.js";
import { chatFeaturesOf, deliversRoomTyping, deliversTyping } from "../adapter/features.js";
import { endpointKey, type NetworkId } from "../model/address.js";
import { ChatStateSchema, type RoomTypingEvent, type TypingEvent, type TypingNotice } from "../model/interactions.js";
import { otherNatives } from "../model/room.js";
import type { RoomLookup } from "../rooms/service.js";
import { ParleyError } from "../errors/parley-error.js";
import type { DomainMappings } from "../mappings/types.js";
import type { Logger } from "../log/logger.js";
import type { AdapterLookup, MessagePolicy, RouteFn } from "./ports.js";
import { conversationKey } from "./jobs.js";
import { errorMessage } from "../errors/message.js";

export interface TypingRelayDeps {
  readonly mappings: () => DomainMappings;
  readonly route: RouteFn;
  readonly policy: MessagePolicy;
  readonly adapters: AdapterLookup;
  readonly capabilities: (network: NetworkId) => AdapterCapabilities | undefined;
  readonly log: Logger;
  readonly registry: Registry;
  /** Where bridged rooms are found; without it typing in rooms is dropped. */
  readonly rooms?: RoomLookup;
  /** Shortest time between two notices of one conversation (ms, default 1000). */
  readonly intervalMs?: number;
  /** Conversations tracked at once; a new one beyond this is dropped (default 10,000). */
  readonly maxConversations?: number;
}

type Outcome = "sent" | "coalesced" | "dropped" | "failed";

interface Slot {
  pending: (() => Promise<void>) | undefined;
  timer: NodeJS.Timeout;
}

export class TypingRelay {
  private readonly slots = new Map<string, Slot>();
  private readonly interval: number;
  private readonly max: number;
  private readonly counter: Counter<"outcome" | "reason">;

  constructor(private readonly deps: TypingRelayDeps) {
    this.interval = deps.intervalMs ?? 1000;
    this.max = deps.maxConversations ?? 10_000;
    this.counter = new Counter({
      name: "parley_typing_notices_total",
      help: "Typing notices on the best-effort path: sent, coalesced (replaced by a newer one), dropped (with why) or failed",
      labelNames: ["outcome", "reason"],
      registers: [deps.registry],
    });
  }

  /** Take a typing change from `source`'s adapter. Resolves at once: nothing here waits for a send. */
  offer(source: NetworkId, event: TypingEvent): AcceptResult {
    const refusal = this.check(source, event);
    if (refusal) return refusal;
    const notice: TypingNotice = { from: event.from, to: event.to, state: event.state };
    return this.schedule(conversationKey(notice.from, notice.to), () => this.send(notice));
  }

  /** A member's typing change in a bridged native room: shown in the room's other native rooms. */
  offerRoom(source: NetworkId, event: RoomTypingEvent): AcceptResult {
    const refusal = this.check(source, event);
    if (refusal) return refusal;
    if (event.room.network !== source) return { status: "refused", error: new ParleyError("PARLEY_NOT_AUTHENTICATED", `a ${source} connection cannot report a ${event.room.network} room`) };
    const notice = { room: event.room, from: event.from, state: event.state };
    return this.schedule(`room>${event.room.network}:${event.room.id}|${endpointKey(event.from)}`, () => this.sendRoom(source, notice));
  }

  private check(source: NetworkId, event: TypingEvent | RoomTypingEvent): AcceptResult | undefined {
    if (event.from.network !== source) {
      return { status: "refused", error: new ParleyError("PARLEY_NOT_AUTHENTICATED", `a ${source} connection cannot send as a ${event.from.network} user`) };
    }
    if (!ChatStateSchema.safeParse(event.state).success) return { status: "refused", error: new ParleyError("PARLEY_INVALID_EVENT", "unknown chat state") };
    return undefined;
  }

  /** Send now, or keep as the conversation's one waiting notice (a newer one replaces it). */
  private schedule(key: string, send: () => Promise<void>): AcceptResult {
    const slot = this.slots.get(key);
    if (slot !== undefined) {
      if (slot.pending !== undefined) this.count("coalesced");
      slot.pending = send;
      return { status: "accepted" };
    }
    if (this.slots.size >= this.max) {
      this.count("dropped", "too-many-conversations");
      return { status: "accepted" };
    }
    this.slots.set(key, { pending: undefined, timer: this.arm(key) });
    void send();
    return { status: "accepted" };
  }

  /** Forget everything waiting (at shutdown). */
  stop(): void {
    for (const slot of this.slots.values()) clearTimeout(slot.timer);
    this.slots.clear();
  }

  private arm(key: string): NodeJS.Timeout {
    const timer = setTimeout(() => this.tick(key), this.interval);
    timer.unref();
    return timer;
  }

  /** One interval passed: send what waited (and wait again), or forget the conversation. */
  private tick(key: string): void {
    const slot = this.slots.get(key);
    if (slot === undefined) return;
    if (slot.pending === undefined) {
      this.slots.delete(key);
      return;
    }
    const send = slot.pending;
    slot.pending = undefined;
    slot.timer = this.arm(key);
    void send();
  }

  private count(outcome: Outcome, reason = ""): void {
    this.counter.inc({ outcome, reason });
  }

  private async send(notice: TypingNotice): Promise<void> {
    const d = this.deps;
    const route = d.route(d.mappings(), notice.from, notice.to, "message");
    if (!route.ok) return this.drop(notice, route.error.code);
    const adapter = d.adapters(route.network);
    const caps = d.capabilities(route.network);
    if (adapter === undefined || caps === undefined || !chatFeaturesOf(caps).typing || !deliversTyping(adapter)) {
      return this.drop(notice, "unsupported", `${route.network} cannot show typing`);
    }
    if (!adapter.health().ready) return this.drop(notice, "not-ready", `no ready ${route.network} link in this process`);
    try {
      const allowed = await d.policy.mayMessage(notice.from, notice.to);
      if (!allowed.allowed) return this.drop(notice, allowed.error.code);
      await adapter.deliverTyping(notice);
      this.count("sent");
    } catch (e) {
      this.count("failed");
      d.log.debug({ from: notice.from.address, to: notice.to.address, err: errorMessage(e) }, "typing notice failed (not retried)");
    }
  }

  /** Each other native room of the canonical room whose network shows typing gets the notice. */
  private async sendRoom(source: NetworkId, notice: { readonly room: RoomTypingEvent["room"]; readonly from: TypingNotice["from"]; readonly state: TypingNotice["state"] }): Promise<void> {
    const d = this.deps;
    const where = `${notice.room.network} room ${notice.room.id}`;
    try {
      const room = await d.rooms?.find(source, notice.room.id);
      if (room === undefined) return this.drop(notice, "not-bridged", `${where} is not a bridged room`);
      const allowed = await d.policy.mayMessage(notice.from, { address: room.address, network: room.home });
      if (!allowed.allowed) return this.drop(notice, allowed.error.code);
      for (const target of otherNatives(room, source)) {
        const adapter = d.adapters(target.network);
        const caps = d.capabilities(target.network);
        if (adapter === undefined || caps === undefined || !chatFeaturesOf(caps).typing || !deliversRoomTyping(adapter)) {
          this.drop(notice, "unsupported", `${target.network} cannot show typing in a room`);
          continue;
        }
        if (!adapter.health().ready) {
          this.drop(notice, "not-ready", `no ready ${target.network} link in this process`);
          continue;
        }
        await adapter.deliverRoomTyping({ room: target, from: notice.from, state: notice.state });
        this.count("sent");
      }
    } catch (e) {
      this.count("failed");
      d.log.debug({ from: notice.from.address, room: notice.room.id, err: errorMessage(e) }, "typing notice in a room failed (not retried)");
    }
  }

  private drop(notice: { readonly from: TypingNotice["from"]; readonly to?: TypingNotice["to"]; readonly room?: RoomTypingEvent["room"] }, reason: string, detail = reason): void {
    this.count("dropped", reason);
    this.deps.log.debug({ event: "typing-dropped", from: notice.from.address, to: notice.to?.address ?? notice.room?.id, reason, detail }, "typing notice dropped");
  }
}
