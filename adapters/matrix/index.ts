/**
 * The Matrix adapter (issue 4): Parley as an application service with puppets. See README.md for
 * the spec sections it implements, its config keys, what is lossy and known gaps.
 */
import type { RoomAdapter } from "../../src/adapter/rooms.js";
import type { RoomDelivery } from "../../src/model/room-events.js";
import { deliverRoomActivity, joinLinkedRooms, typingInLinkedRoom } from "./rooms/linked.js";
import type { RoomTypingNotice } from "../../src/adapter/features.js";
import { answerRoomQuery } from "./rooms/open.js";
import { checkMatrixRoom, listenToMatrixRoom } from "./rooms/open-home.js";
import { RemovedRooms } from "./rooms/removed-rooms.js";
import type { Server } from "node:http";
import { MatrixError } from "matrix-js-sdk";
import {
  DeliveryError,
  type Adapter, type AdapterCapabilities, type AdapterContext, type AdapterFactory, type DeliveryOutcome, type LinkHealth,
} from "../../src/adapter/contract.js";
import type { PresenceDelivery, PresenceNotification, SubscriptionDelivery, SubscriptionNotice } from "../../src/adapter/presence.js";
import { ParleyError } from "../../src/errors/parley-error.js";
import type { DeliveryStatus } from "../../src/model/delivery-status.js";
import type { Message } from "../../src/model/message.js";
import { botUserId, matrixAddressing } from "./address.js";
import { createAppserviceServer } from "./appservice-http.js";
import { deliverSubscription } from "./bot.js";
import { MATRIX, MatrixConfigSchema, type MatrixConfig } from "./config.js";
import type { MatrixDeps } from "./deps.js";
import type { Profile, ProfileSource } from "../../src/adapter/profiles.js";
import type { Endpoint } from "../../src/model/address.js";
import { matrixProfile } from "./profile.js";
import { Homeserver, Method, enc } from "./homeserver.js";
import { deliverMessage, deliverStatus } from "./outbound.js";
import { deliverInteraction, deliverTyping } from "./features/outbound.js";
import type { TypingNotice } from "../../src/model/interactions.js";
import type { TypingDelivery } from "../../src/adapter/features.js";
import { PuppetPresence } from "./presence.js";
import { Puppets } from "./puppets.js";
import { PuppetProfiles } from "./puppet-profile.js";
import { matrixDoctor } from "./doctor.js";
import { checkRegistrationFile } from "./registration.js";
import { registrationCommand } from "./registration-command.js";
import { Rooms } from "./rooms.js";
import { Transactions } from "./transactions.js";
import { CatchUp, RoomActivity } from "./catch-up.js";
import { Reachability } from "./reachability.js";
import { answerUserQuery } from "./user-query.js";
import type { HttpReply } from "./types.js";
import { matrixProvisioning } from "./provision.js";
import { errorMessage } from "../../src/errors/message.js";
import { closeListener, listenOn } from "../../src/net/http-listener.js";

export { writeRegistration, type RegistrationInput, type WrittenRegistration } from "./registration.js";
export { matrixAddressing } from "./address.js";
export { MatrixConfigSchema, type MatrixConfig, type MatrixConfigInput } from "./config.js";

export const matrixCapabilities: AdapterCapabilities = {
  presence: true,
  subscriptions: true,
  receipts: { delivered: false, displayed: true },
  subject: false,
  html: true,
  edits: true,
  // An event is at most 65536 bytes (client-server API "Size limits"); leave room for the envelope.
  maxMessageBytes: 60_000,
  // Issue 18: what of reactions, retractions, replies and typing this network shows (README).
  chat: { reactions: true, retractions: true, replies: true, typing: true, roomReadMarkers: true },
};

export class MatrixAdapter implements Adapter, PresenceDelivery, SubscriptionDelivery, RoomAdapter, TypingDelivery, ProfileSource {
  private d: MatrixDeps | undefined;
  private server: Server | undefined;
  private transactions: Transactions | undefined;
  private presence: PuppetPresence | undefined;
  /** Whether the homeserver answers; answering again after it did not starts a catch-up. */
  private reach: Reachability | undefined;
  private catchUp: CatchUp | undefined;
  /** Bridged rooms that removed the bot or a puppet (rooms/removed.ts), for health(). */
  private readonly removedRooms = new RemovedRooms();
  private stopped = false;

  constructor(private readonly config: MatrixConfig) {}

  /** The port the application-service listener is bound to (after start). */
  get port(): number | undefined {
    const a = this.server?.address();
    return typeof a === "object" && a ? a.port : undefined;
  }

  async start(ctx: AdapterContext): Promise<void> {
    this.stopped = false;
    const c = this.config;
    if (c.registrationFile !== undefined) await checkRegistrationFile(c.registrationFile, c);
    const log = ctx.log.child({ module: "matrix" });
    const hs = new Homeserver({ baseUrl: c.homeserverUrl, asToken: c.asToken, timeoutMs: c.requestTimeoutMs });
    const bot = botUserId(ctx.mappings());
    const base = { ctx, config: c, hs, log, bot, puppets: new Puppets(hs, ctx.state, () => bot), rooms: new Rooms(hs, ctx.state), removedRooms: this.removedRooms };
    const d: MatrixDeps = { ...base, profiles: new PuppetProfiles(base) };
    this.d = d;
    const reach = new Reachability(() => hs.request(bot, Method.Get, "/account/whoami"), () => {
      ctx.peerAnswersAgain?.(); // deliveries waiting out a backoff go now
      void this.recovered();
    }, false, () => this.catchUp?.markDue());
    this.reach = reach;
    await this.checkToken(d);
    const activity = new RoomActivity(d);
    this.transactions = new Transactions(d, (rooms) => activity.note(rooms));
    this.presence = new PuppetPresence(d);
    const presence = this.presence;
    d.rooms.onPartnerAdded = (owner, user) => presence.partnerAdded(owner, user).catch((e: unknown) => log.warn({ err: errorMessage(e) }, "presence re-check failed"));
    this.presence.start(); // every role: one process of the deployment refreshes, by lease
    reach.start(c.catchUp.probeSeconds * 1000); // every role: notices the homeserver answering again
    if (ctx.ingress === false) return log.info({ homeserver: c.homeserverUrl }, "matrix adapter started send-only (workers role)");
    const tx = this.transactions;
    this.catchUp = new CatchUp(d, (label, events) => tx.feed(label, events), {
      caughtUp: ctx.counter?.("parley_catchup_events_total", "events read from room history after the homeserver was unreachable or Parley was down that Parley had not been pushed (lost by the homeserver, or not pushed yet), delivered (adapters/matrix/catch-up.ts)"),
      roomsFailed: ctx.counter?.("parley_catchup_rooms_failed_total", "rooms whose recent history a catch-up could not read or feed (adapters/matrix/catch-up.ts)"),
    });
    const catchUp = this.catchUp;
    tx.before = () => catchUp.before();
    tx.onSkipped = () => catchUp.markDue();
    this.server = createAppserviceServer({ hsToken: c.hsToken, log, limits: c.listen, handlers: { transaction: (id, body) => tx.handle(id, body), userQuery: (u) => this.userQuery(u), roomQuery: (a) => answerRoomQuery(d, a) } });
    await listenOn(this.server, c.listen.port, c.listen.host);
    await this.ping(d, "start");
    void joinLinkedRooms(d);
    // Parley may have been down while the homeserver lost events it had not pushed (catch-up.ts).
    if (reach.ok) void this.catchUp.run("start");
    log.info({ port: this.port, homeserver: c.homeserverUrl }, "matrix adapter started");
  }

  /**
   * Client-server API "POST /appservice/{appserviceId}/ping": proves both directions and makes
   * Synapse retry queued transactions now instead of after its backoff.
   */
  private async ping(d: MatrixDeps, why: string): Promise<void> {
    await d.hs.requestPrefixed(d.bot, Method.Post, "/_matrix/client/v1", `/appservice/${enc(d.config.appserviceId)}/ping`, { transaction_id: `parley.${why}.${Date.now()}` })
      .catch((e: unknown) => d.log.warn({ err: errorMessage(e) }, "application-service ping failed"));
  }

  /** The homeserver answers again: have it push what it kept, then read back what it may have lost. */
  private async recovered(): Promise<void> {
    const d = this.d;
    if (!d || this.stopped || this.server === undefined || this.catchUp === undefined) return;
    d.log.info("homeserver answering again");
    await this.ping(d, "back");
    await this.catchUp.run("homeserver answering again");
  }

  /** Refuse to start with an as_token the homeserver does not know (issue 4 step 1). */
  private async checkToken(d: MatrixDeps): Promise<void> {
    try {
      await d.hs.request(d.bot, Method.Get, "/account/whoami");
      this.reach!.ok = true;
    } catch (e) {
      if (e instanceof MatrixError && (e.httpStatus === 401 || e.httpStatus === 403)) {
        throw new ParleyError("PARLEY_CONFIG_INVALID", `the homeserver refuses adapters.matrix.asToken (${e.errcode ?? e.httpStatus}): is the registration loaded?`, {}, { cause: e });
      }
      d.log.warn({ err: errorMessage(e) }, "homeserver unreachable at start; deliveries will retry");
    }
  }

  private userQuery(userId: string): Promise<HttpReply> {
    const d = this.d!;
    return answerUserQuery({ mappings: () => d.ctx.mappings(), ensure: (u, name) => d.puppets.ensure(u, name), log: d.log }, userId);
  }


  /**
   * Close the application-service endpoint (Synapse keeps what it could not hand over and retries)
   * and wait for the transactions being accepted; deliveries to the homeserver keep working
   * (src/adapter/ingress.ts).
   */
  async stopIngress(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    await this.catchUp?.stop();
    if (server) await closeListener(server);
    await this.transactions?.settled();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.reach?.stop();
    await this.stopIngress();
    await this.presence?.stop();
    this.d?.hs.close();
  }

  private deps(): MatrixDeps {
    if (!this.d || this.stopped) throw new DeliveryError("transient", "unavailable", "the matrix adapter is not running");
    return this.d;
  }

  /** Run a delivery and remember whether the homeserver answered (for health()). */
  private async track<T>(f: (d: MatrixDeps) => Promise<T>): Promise<T> {
    try {
      const out = await f(this.deps());
      this.reach?.mark(true);
      return out;
    } catch (e) {
      this.reach?.mark(!(e instanceof DeliveryError && e.failureClass === "transient" && e.reason === "unavailable"));
      throw e;
    }
  }

  async deliverMessage(message: Message): Promise<DeliveryOutcome> {
    return this.track(async (d) => (await deliverInteraction(d, message)) ?? deliverMessage(d, message));
  }

  /** Typing of a foreign user in their DM with a Matrix user (issue 18, best effort). */
  async deliverTyping(notice: TypingNotice): Promise<void> {
    await this.track((d) => deliverTyping(d, notice));
  }

  /** A member's typing in a linked room (issue 18 in rooms, best effort). */
  async deliverRoomTyping(notice: RoomTypingNotice): Promise<void> {
    await this.track((d) => typingInLinkedRoom(d, notice));
  }

  /** A room activity in a linked room (issue 12, rooms/linked.ts). */
  async deliverRoom(delivery: RoomDelivery): Promise<DeliveryOutcome> {
    return this.track((d) => deliverRoomActivity(d, delivery));
  }

  /** Open rooms whose home is a Matrix room (issue 12, rooms/open-home.ts): may it be opened, then listen to it. */
  async checkOpenRoom(native: string): Promise<void> { return checkMatrixRoom(this.openDeps(), native); }
  async listenToRoom(native: string): Promise<void> { return listenToMatrixRoom(this.openDeps(), native); }
  private openDeps(): MatrixDeps {
    if (!this.d || this.stopped) throw new ParleyError("PARLEY_UNAVAILABLE", "the matrix adapter is not running");
    return this.d;
  }

  async deliverPresence(n: PresenceNotification): Promise<void> {
    await this.track(async () => this.presence!.deliver(n));
  }

  /** A Matrix user's profile for the other networks (profile.ts). */
  async profileOf(who: Endpoint): Promise<Profile | undefined> {
    return matrixProfile(this.deps(), who);
  }

  async deliverSubscription(n: SubscriptionNotice): Promise<void> {
    await this.track((d) => deliverSubscription(d, n));
  }

  async deliverStatus(s: DeliveryStatus): Promise<void> {
    await this.track((d) => deliverStatus(d, s));
  }

  health(): LinkHealth {
    const listening = this.server?.listening ?? false;
    const sendOnly = this.d !== undefined && !this.stopped && this.d.ctx.ingress === false;
    // Rooms that removed the bot or a puppet are shown, not made unready (docs/rooms.md).
    const rooms = this.d ? this.removedRooms.unhealthy(this.d.bot) : [];
    const shown = rooms.map((r) => `; room ${r.room}: ${r.detail}`).join("");
    const withRooms = rooms.length > 0 ? { rooms } : {};
    if (sendOnly) return { ready: true, detail: `send-only (workers role); homeserver ${this.reach?.ok === true ? "answering" : "unreachable"}${shown}`, ...withRooms };
    return { ready: listening, detail: listening ? `listening on ${this.port}; homeserver ${this.reach?.ok === true ? "answering" : "unreachable"}${shown}` : "stopped", ...withRooms };
  }
}

export const matrixAdapter = {
  id: MATRIX,
  capabilities: matrixCapabilities,
  configSchema: MatrixConfigSchema,
  addressing: matrixAddressing,
  docs: { readme: "adapters/matrix/README.md" },
  provisioning: matrixProvisioning,
  doctor: matrixDoctor,
  commands: [registrationCommand],
  create: (config: MatrixConfig) => new MatrixAdapter(config),
} satisfies AdapterFactory<MatrixConfig>;
