/**
 * Rooms in the core (issue 12): what the accept pipeline does with a {@link RoomEvent} and what a
 * worker does with a `room` job.
 *
 * Accept: validate → the actor is from the source network → which canonical room (linked in the
 * mappings, or open) → echo (id map) and replays (claims) → hop count → the actor is proved and
 * their domain may send → the room's inbox rules → one job per other native room, ordered per room.
 * Deliver: the target network's adapter shows the activity as the actor's puppet, and the native
 * ids it reports are linked, so the activity coming back is recognised by id, never by text.
 */
import type { AcceptResult, AdapterCapabilities } from "../adapter/contract.js";
import { DeliveryError } from "../adapter/contract.js";
import { roomAdapterOf } from "../adapter/rooms.js";
import type { IdMap } from "../adapter/state.js";
import { domainOf, endpointKey, type Endpoint, type NetworkId } from "../model/address.js";
import { isAuthenticated } from "../model/common.js";
import { DeliveryStatusSchema } from "../model/delivery-status.js";
import type { CanonicalId } from "../model/ids.js";
import { activityActor, activityAuth, activityId, RoomActivitySchema, RoomDeliverySchema, type RoomActivity, type RoomDelivery, type RoomEvent } from "../model/room-events.js";
import type { NativeRoom, Room } from "../model/room.js";
import { ParleyError, isParleyError } from "../errors/parley-error.js";
import type { DomainMappings } from "../mappings/types.js";
import type { DeliveryJob, DeliveryService } from "../delivery/types.js";
import type { Logger } from "../log/logger.js";
import type { AdapterLookup, InboundClaims, MessagePolicy } from "../core/ports.js";
import { statusJob } from "../core/jobs.js";
import { claimNativeIds, isEcho, releaseClaims } from "../core/native-ids.js";
import { policyFor } from "../router/route.js";
import { roomJobs } from "./jobs.js";
import { fitRoomActivity } from "./features.js";
import type { RoomMetrics } from "./metrics.js";

/** Where the core finds the canonical room of a native room: the mappings' links, then open rooms. */
export interface RoomLookup {
  find(network: NetworkId, nativeId: string): Promise<Room | undefined>;
}

export interface RoomServiceDeps {
  readonly mappings: () => DomainMappings;
  readonly rooms: RoomLookup;
  readonly policy: MessagePolicy;
  readonly delivery: DeliveryService;
  readonly claims: InboundClaims;
  readonly ids: IdMap;
  readonly adapters: AdapterLookup;
  readonly capabilities: (network: NetworkId) => AdapterCapabilities | undefined;
  readonly log: Logger;
  readonly metrics: RoomMetrics;
}

const refused = (code: ConstructorParameters<typeof ParleyError>[0], text: string): AcceptResult => ({ status: "refused", error: new ParleyError(code, text) });

/** The linked rooms of the current mappings. */
export function linkedRooms(mappings: () => DomainMappings): RoomLookup {
  return { find: async (network, id) => mappings().rooms?.find(network, id) };
}

export class RoomService {
  constructor(private readonly deps: RoomServiceDeps) {}

  /** Accept one room event from `source`'s adapter; resolves once its jobs are durable. */
  async accept(source: NetworkId, event: RoomEvent): Promise<AcceptResult> {
    const parsed = RoomActivitySchema.safeParse(event.activity);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return refused("PARLEY_INVALID_EVENT", `room activity field ${issue?.path.join(".") || "(root)"}: ${issue?.message ?? "invalid"}`);
    }
    const activity = parsed.data;
    const actor = activityActor(activity);
    if (actor.network !== source || event.room.network !== source) {
      return refused("PARLEY_NOT_AUTHENTICATED", `a ${source} connection cannot act for ${endpointKey(actor)} in a ${event.room.network} room`);
    }
    const room = await this.deps.rooms.find(source, event.room.id);
    if (!room) return refused("PARLEY_ADDRESS_UNKNOWN", `${event.room.id} is not a bridged room`);
    if (activity.type === "message") return this.acceptMessage(source, room, activity);
    const decision = await this.admit(room, actor, activity);
    if (decision) return decision;
    await this.enqueue(source, room, activity);
    return { status: "accepted" };
  }

  private async acceptMessage(source: NetworkId, room: Room, activity: Extract<RoomActivity, { type: "message" }>): Promise<AcceptResult> {
    const m = activity.message;
    if (await isEcho(this.deps.ids, m.nativeIds)) return { status: "duplicate" };
    const { claimed, earlier } = await claimNativeIds(this.deps.claims, m.id, m.nativeIds);
    if (earlier !== undefined) return this.replay(source, room, { type: "message", message: { ...m, id: earlier } });
    if (m.hops <= 0) {
      await releaseClaims(this.deps.claims, claimed, m.id);
      return refused("PARLEY_LOOP", "the message has passed through too many gateways (hop count 0)");
    }
    const decision = await this.admit(room, m.from, activity);
    if (decision) {
      await releaseClaims(this.deps.claims, claimed, m.id);
      return decision;
    }
    try {
      await this.enqueue(source, room, { type: "message", message: { ...m, hops: m.hops - 1 } });
    } catch (e) {
      await releaseClaims(this.deps.claims, claimed, m.id);
      throw e;
    }
    return { status: "accepted", messageId: m.id };
  }

  /** A replay: enqueue again under the first id (job keys make it a no-op when the first is queued). */
  private async replay(source: NetworkId, room: Room, activity: Extract<RoomActivity, { type: "message" }>): Promise<AcceptResult> {
    if ((await this.admit(room, activity.message.from, activity)) === undefined && activity.message.hops > 0) {
      await this.enqueue(source, room, { type: "message", message: { ...activity.message, hops: activity.message.hops - 1 } });
    }
    return { status: "duplicate" };
  }

  /** The checks that may refuse an activity; undefined when it may go. */
  private async admit(room: Room, actor: Endpoint, activity: RoomActivity): Promise<AcceptResult | undefined> {
    const auth = activityAuth(activity);
    const policy = policyFor(this.deps.mappings(), domainOf(actor.address));
    if (!isAuthenticated(auth) && !policy.acceptUnauthenticated) {
      return refused("PARLEY_NOT_AUTHENTICATED", `the sender ${actor.address} is not proved, and ${domainOf(actor.address)} requires it`);
    }
    if (!policy.enabled || !policy.messaging) return refused("PARLEY_DISABLED", `messaging from ${domainOf(actor.address)} is switched off`);
    const allowed = await this.deps.policy.mayMessage(actor, { address: room.address, network: room.home });
    if (!allowed.allowed) return allowed.error ? { status: "refused", error: allowed.error } : refused("PARLEY_REFUSED", "not allowed");
    if (activity.type === "message") {
      if (activity.message.requireE2E) return refused("PARLEY_UNSUPPORTED", "end-to-end encrypted content cannot be bridged, and the sender asked that it never be sent in clear");
      const size = activity.message.parts.reduce((n, p) => n + (p.role === "text" || p.role === "html" ? Buffer.byteLength(p.body) : 0), 0);
      for (const target of room.natives.values()) {
        const caps = this.deps.capabilities(target.network);
        if (caps && size > caps.maxMessageBytes) return refused("PARLEY_TOO_LARGE", `the message has ${size} bytes; ${target.network} takes at most ${caps.maxMessageBytes}`);
      }
    }
    return undefined;
  }

  private async enqueue(source: NetworkId, room: Room, activity: RoomActivity): Promise<void> {
    const sourceAdapter = this.deps.adapters(source);
    const fit = (target: NativeRoom, a: RoomActivity) => fitRoomActivity(room, target, a, this.deps.capabilities(target.network), this.deps.log);
    const native = room.natives.get(source);
    const hosted = sourceAdapter !== undefined && native !== undefined && roomAdapterOf(sourceAdapter)?.hostsRoom?.(native.id) === true;
    const jobs = roomJobs(room, source, activity, hosted, fit);
    if (jobs.length === 0) return;
    try {
      await this.deps.delivery.enqueue(jobs);
    } catch (e) {
      throw isParleyError(e) ? e : new ParleyError("PARLEY_UNAVAILABLE", undefined, {}, { cause: e });
    }
    this.deps.metrics.accepted.inc({ source, type: activity.type });
    this.deps.log.debug({ room: room.key, id: activityId(activity), type: activity.type, targets: jobs.length }, "room activity accepted");
  }

  /** Perform one `room` job: the target network shows the activity in its native room. */
  async handleJob(job: DeliveryJob): Promise<void> {
    const delivery: RoomDelivery = RoomDeliverySchema.parse(job.payload);
    const adapter = this.deps.adapters(job.network);
    if (!adapter) throw new DeliveryError("transient", "unavailable", `no ${job.network} adapter runs in this process`);
    const rooms = roomAdapterOf(adapter);
    if (!rooms) throw new DeliveryError("permanent", "unsupported", `the ${job.network} adapter does not bridge rooms`);
    const outcome = await rooms.deliverRoom(delivery);
    const id = activityId(delivery.activity) as CanonicalId;
    for (const native of outcome.nativeIds) await this.deps.ids.link(id, native);
    this.deps.metrics.delivered.inc({ network: job.network, type: delivery.activity.type });
  }

  /** A room message that failed for good is reported to its sender, in their own network's terms. */
  async onFinalFailure(job: DeliveryJob, error: DeliveryError): Promise<void> {
    const parsed = RoomDeliverySchema.safeParse(job.payload);
    if (!parsed.success || parsed.data.activity.type !== "message") return;
    const { room, target, activity } = parsed.data;
    const status = DeliveryStatusSchema.parse({
      messageId: activity.message.id,
      sender: activity.message.from,
      recipient: { address: room.address, network: room.home },
      state: "failed",
      reason: error.reason,
      text: `Not delivered to the room ${room.address} on ${target.network}: ${error.message}`.slice(0, 1024),
      at: new Date().toISOString(),
      extensions: error.nativeDetail ? { "urn:parley:native-detail": { payload: error.nativeDetail } } : {},
    });
    await this.deps.delivery.enqueue([statusJob(status)]);
  }
}
