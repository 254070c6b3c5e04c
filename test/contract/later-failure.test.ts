/**
 * The failure-class checks take a failure reported later (a bounce after the network took the
 * message, as an XMPP server sends) as well as one thrown at once: an adapter that reports the
 * later failure with the right reason passes them, one that reports the wrong reason or nothing
 * fails them.
 */
import { describe, expect, it } from "vitest";
import { CONTRACT_CHECKS } from "./checks.js";
import type { ContractSetup } from "./setup.js";
import { doubleSetup } from "../support/double-setup.js";
import type { TestDoublePeer} from "../support/test-double-adapter.js";
import { TestDoubleAdapter, testDoubleFactory } from "../support/test-double-adapter.js";
import type { DeliveryOutcome } from "../../src/adapter/contract.js";
import type { FailureReason } from "../../src/model/delivery-status.js";
import type { Message } from "../../src/model/message.js";

type Reporting = "right reason" | "wrong reason" | "nothing";

const REASON: Record<string, FailureReason> = { transient: "unavailable", permanent: "recipient-unknown", "rate-limited": "rate-limited" };

/** Takes every message, then reports a provoked failure afterwards, as a failed delivery status. */
class BouncingDouble extends TestDoubleAdapter {
  constructor(peer: TestDoublePeer, private readonly reporting: Reporting) { super(peer, "bouncing", { running: false }); }
  override async deliverMessage(message: Message): Promise<DeliveryOutcome> {
    const failWith = this.peer.failWith;
    this.peer.failWith = undefined;
    try {
      return await super.deliverMessage(message);
    } finally {
      this.peer.failWith = failWith;
      if (failWith && this.reporting !== "nothing") setImmediate(() => void this.bounce(message, this.reporting === "right reason" ? REASON[failWith]! : "internal"));
    }
  }
  private async bounce(message: Message, reason: FailureReason): Promise<void> {
    await this.ctx!.accept([{ kind: "delivery-status", status: {
      messageId: message.id, sender: message.from, recipient: message.to, state: "failed", reason, at: new Date().toISOString(), extensions: {},
    } }]);
  }
}

async function bouncingSetup(reporting: Reporting): Promise<ContractSetup> {
  const base = testDoubleFactory("bouncing");
  const factory = { ...base, create: () => new BouncingDouble(base.peer, reporting) };
  return { ...(await doubleSetup(factory)), laterFailureMs: 200 };
}

const classChecks = CONTRACT_CHECKS.filter((c) => c.name.startsWith("classifies a "));

describe("a failure reported later", () => {
  it("has a check per failure class", () => expect(classChecks).toHaveLength(3));

  it.each(classChecks.map((c) => [c.name, c] as const))("passes with the right reason: %s", async (_name, check) => {
    await check.run(await bouncingSetup("right reason"));
  });

  it.each(classChecks.filter((c) => !c.name.includes("a transient")).map((c) => [c.name, c] as const))("fails with a reason of another class: %s", async (_name, check) => {
    await expect(check.run(await bouncingSetup("wrong reason"))).rejects.toThrow();
  });

  it.each(classChecks.map((c) => [c.name, c] as const))("fails when nothing is reported: %s", async (_name, check) => {
    await expect(check.run(await bouncingSetup("nothing"))).rejects.toThrow(/no failed delivery status/);
  });
});
