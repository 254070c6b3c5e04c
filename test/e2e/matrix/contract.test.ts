/** The shared adapter contract suite, run for the Matrix adapter against the tier's real Synapse. */
import { adapterContractSuite } from "../../contract/adapter-contract.js";
import { matrixAdapter } from "../../../adapters/matrix/index.js";
import { toNative } from "../../../adapters/matrix/address.js";
import { endpoint } from "../../../src/model/address.js";
import { startUser, uniqueName } from "../../harness/synapse/clients.js";
import { startRig } from "./rig.js";

adapterContractSuite("matrix (Synapse)", async () => {
  const rig = await startRig(1);
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
    async expectPresenceSeen(basic) {
      await alice.waitForPresence(puppet, basic === "open" ? "online" : "offline");
    },
    async teardown() {
      alice.stop();
      await rig.stop();
    },
  };
});
