/** The shared adapter contract suite, run for the Matrix adapter against the tier's real Synapse. */
import { adapterContractSuite, type InboundAnswer } from "../../contract/adapter-contract.js";
import type { FailureClass } from "../../../src/adapter/contract.js";
import type { MessageEvent } from "../../../src/model/events.js";
import type { FaultAnswer } from "../../harness/http-proxy.js";
import { matrixAdapter } from "../../../adapters/matrix/index.js";
import { toNative } from "../../../adapters/matrix/address.js";
import { endpoint } from "../../../src/model/address.js";
import { startUser, uniqueName } from "../../harness/synapse/clients.js";
import { startRig } from "./rig.js";

const FAULTS: Record<FailureClass, FaultAnswer> = {
  transient: { status: 502, body: { errcode: "M_UNKNOWN", error: "Bad Gateway" } },
  permanent: { status: 413, body: { errcode: "M_TOO_LARGE", error: "event too large" } },
  "rate-limited": { status: 429, body: { errcode: "M_LIMIT_EXCEEDED", error: "Too Many Requests", retry_after_ms: 2_000 } },
};

adapterContractSuite("matrix (Synapse)", async () => {
  const rig = await startRig(1, { proxied: true });
  const proxies = rig.proxies!;
  const alice = await startUser(rig.coords.baseUrl, rig.coords.registrationSharedSecret, uniqueName("carla"));
  const localUser = endpoint(`${alice.userId.slice(1, alice.userId.indexOf(":"))}@${rig.coords.serverName}`, "matrix");
  const foreignUser = endpoint("dora@example.org", "email");
  const puppet = toNative(foreignUser, rig.mappings);

  /** The DM room with the puppet: the one the adapter made, or one the user opens by inviting the puppet. */
  async function dmRoom(): Promise<string> {
    const known = await rig.ctx.state.get(`dm:${puppet}|${alice.userId}`);
    if (known !== undefined) return known;
    const { room_id: roomId } = await alice.client.createRoom({ is_direct: true, invite: [puppet], preset: "trusted_private_chat" as never });
    await alice.waitForEvent((e) => e.getRoomId() === roomId && e.getType() === "m.room.member" && e.getStateKey() === puppet && e.getContent().membership === "join");
    return roomId;
  }

  return {
    factory: matrixAdapter,
    adapter: rig.adapter,
    config: rig.config,
    ctx: rig.ctx,
    mappings: rig.mappings,
    localUser,
    foreignUser,
    async expectReceived(text) {
      await alice.waitForMessage(text, puppet);
    },
    async sendFromLocal(text) {
      await alice.say(await dmRoom(), { msgtype: "m.text", body: text });
    },
    /**
     * What Synapse was told: the transaction holding the event answered 5xx is "try later" (the
     * homeserver retries it), a notice in reply to the event is the refusal, an accepted event is
     * the success.
     */
    async sendAndObserve(text) {
      const eventId = await alice.say(await dmRoom(), { msgtype: "m.text", body: text });
      const tryLater = proxies.appservice.waitFor((x) => x.path.includes("/transactions/") && x.body.includes(eventId) && x.status >= 500)
        .then((): InboundAnswer => "try-later");
      const refused = alice.waitForEvent((e) => e.getType() === "m.room.message" && e.getSender() === puppet
        && e.getContent()["m.relates_to"]?.["m.in_reply_to"]?.event_id === eventId).then((): InboundAnswer => "refused");
      const accepted = rig.ctx.waitForAccepted((e): e is MessageEvent => e.kind === "message" && e.message.parts.some((p) => p.role === "text" && p.body === text))
        .then((): InboundAnswer => "accepted");
      for (const p of [tryLater, refused, accepted]) p.catch(() => undefined);
      return Promise.race([tryLater, refused, accepted]);
    },
    /** Synapse's own error bodies for its room sends, as a reverse proxy in front of it would pass them on (502 when Synapse is down). */
    async provokeFailure(failureClass) {
      return proxies.homeserver.fail((method, path) => method === "PUT" && path.includes("/send/m.room.message/"), FAULTS[failureClass]);
    },
    async expectPresenceSeen(basic) {
      await alice.waitForPresence(puppet, basic === "open" ? "online" : "offline");
    },
    async teardown() {
      alice.stop();
      await rig.stop();
    },
  };
});
