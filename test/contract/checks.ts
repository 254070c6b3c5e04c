/**
 * Every check of the adapter contract, in the order the suite runs them (the stop checks last).
 * Each `run` throws when the adapter breaks the contract; `needs` names a setup hook the check
 * cannot run without (the suite then reports it skipped, never passed). The broken double
 * (test/support/broken-double-adapter.ts) must fail every one of them.
 */
import { expect } from "vitest";
import { DeliveryError, type Adapter, type FailureClass } from "../../src/adapter/contract.js";
import { deliversPresence, deliversSubscriptions } from "../../src/adapter/presence.js";
import { ParleyError } from "../../src/errors/parley-error.js";
import { newCanonicalId } from "../../src/model/ids.js";
import { DeliveryStatusSchema } from "../../src/model/delivery-status.js";
import type { DeliveryStatusEvent, MessageEvent } from "../../src/model/events.js";
import type { Message } from "../../src/model/message.js";
import { failureClassOf } from "../../src/adapter/classify.js";
import { SubscriptionSchema } from "../../src/model/subscription.js";
import { canonicalPresence, canonicalTextMessage, type ContractSetup, type InboundAnswer } from "./setup.js";

export interface ContractCheck {
  readonly name: string;
  /** The missing hook's name when this setup cannot run the check. */
  needs?(s: ContractSetup): string | undefined;
  run(s: ContractSetup): Promise<void>;
}

const unique = (what: string) => `contract ${what} ${newCanonicalId()}`;

/** Each delivery method the adapter implements, called with a valid argument for this setup. */
function deliveries(s: ContractSetup, adapter: Adapter): Array<[string, () => Promise<unknown>]> {
  const out: Array<[string, () => Promise<unknown>]> = [
    ["deliverMessage", () => adapter.deliverMessage(canonicalTextMessage(s.foreignUser, s.localUser, unique("idle")))],
    ["deliverStatus", () => adapter.deliverStatus(failedStatus(s, "idle"))],
  ];
  if (deliversPresence(adapter)) out.push(["deliverPresence", () => adapter.deliverPresence({ watcher: s.localUser, presence: canonicalPresence(s.foreignUser, "open", Date.now()) })]);
  if (deliversSubscriptions(adapter)) {
    const subscription = SubscriptionSchema.parse({ watcher: s.foreignUser, presentity: s.localUser, state: "pending", at: new Date().toISOString() });
    out.push(["deliverSubscription", () => adapter.deliverSubscription({ to: s.localUser, subscription, notice: "request" })]);
  }
  return out;
}

function failedStatus(s: ContractSetup, text: string) {
  return DeliveryStatusSchema.parse({
    messageId: newCanonicalId(), sender: s.localUser, recipient: s.foreignUser, state: "failed", reason: "recipient-unknown",
    text: `Not delivered: ${text}`, at: new Date().toISOString(),
  });
}

/** Every delivery method must fail with a transient DeliveryError (the job waits, nothing is lost). */
async function expectAllTransient(s: ContractSetup, adapter: Adapter): Promise<void> {
  for (const [name, call] of deliveries(s, adapter)) {
    const error = await call().then(() => undefined, (e: unknown) => e);
    expect(error, `${name} must fail`).toBeInstanceOf(DeliveryError);
    expect((error as DeliveryError).failureClass, name).toBe("transient");
  }
}

/**
 * The class of the failure `deliverMessage` reports for `message`: thrown at once (a
 * DeliveryError), or, when the network took it and refused it later (an XMPP bounce), the
 * reason of the failed delivery status the adapter hands the core for that message.
 */
async function reportedClass(s: ContractSetup, message: Message): Promise<FailureClass> {
  const thrown = await s.adapter.deliverMessage(message).then(() => undefined, (e: unknown) => e);
  if (thrown !== undefined) {
    expect(thrown, "deliverMessage throws only DeliveryError").toBeInstanceOf(DeliveryError);
    return (thrown as DeliveryError).failureClass;
  }
  const { status } = await s.ctx.waitForAccepted(
    (e): e is DeliveryStatusEvent => e.kind === "delivery-status" && e.status.messageId === message.id && e.status.state === "failed",
    s.laterFailureMs ?? LATER_FAILURE_MS,
  ).catch(() => { throw new Error(`deliverMessage resolved, and no failed delivery status for ${message.id} followed`); });
  expect(status.sender, "the later failure is reported to the message's sender").toEqual(message.from);
  expect(status.recipient, "the later failure names the message's recipient").toEqual(message.to);
  expect(status.reason, "the later failure carries a reason").toBeDefined();
  return failureClassOf(status.reason!);
}

/** How long a later failure report (a bounce) may take after `deliverMessage` resolved, by default. */
const LATER_FAILURE_MS = 10_000;

function classCheck(failureClass: FailureClass): ContractCheck {
  return {
    name: `classifies a ${failureClass} failure of its peer as ${failureClass}, at once or in a later failure report`,
    needs: (s) => (s.provokeFailure ? undefined : "provokeFailure"),
    async run(s) {
      const provoked = await s.provokeFailure!(failureClass);
      try {
        expect(await reportedClass(s, canonicalTextMessage(s.foreignUser, s.localUser, unique(failureClass)))).toBe(failureClass);
      } finally {
        await provoked.restore();
      }
    },
  };
}

/** With the core answering `error` (unable to store, or refusing), the local sender's side hears `expected`. */
function answerCheck(name: string, how: "rejectWith" | "refuseWith", error: ParleyError, expected: InboundAnswer): ContractCheck {
  return {
    name,
    needs: (s) => (s.sendAndObserve ? undefined : "sendAndObserve"),
    async run(s) {
      s.ctx[how] = error;
      try {
        expect(await s.sendAndObserve!(unique(expected))).toBe(expected);
      } finally {
        s.ctx[how] = undefined;
      }
    },
  };
}

export const CONTRACT_CHECKS: readonly ContractCheck[] = [
  {
    name: "T-3.1.1 T-4.1.1 declares an id, capabilities, docs and a config schema that refuses nonsense",
    async run(s) {
      expect(s.factory.id).toMatch(/^[a-z][a-z0-9-]*$/);
      expect(typeof s.factory.capabilities.presence).toBe("boolean");
      expect(s.factory.capabilities.maxMessageBytes).toBeGreaterThan(0);
      expect(s.factory.configSchema.safeParse(42).success).toBe(false);
      expect(s.factory.docs.readme).toMatch(/README\.md$|\.ts$/);
    },
  },
  {
    name: "declares exactly the optional capabilities it implements (presence, subscriptions)",
    async run(s) {
      expect(deliversPresence(s.adapter), "capabilities.presence vs PresenceDelivery").toBe(s.factory.capabilities.presence);
      expect(deliversSubscriptions(s.adapter), "capabilities.subscriptions vs SubscriptionDelivery").toBe(s.factory.capabilities.subscriptions);
    },
  },
  {
    name: "T-2.1.4 maps its users and foreign users to native ids and back",
    async run(s) {
      for (const who of [s.localUser, s.foreignUser]) {
        const native = s.factory.addressing.toNative(who, s.mappings);
        expect(s.factory.addressing.fromNative(native, s.mappings)).toEqual(who);
      }
    },
  },
  {
    name: "is ready once started",
    async run(s) { expect(s.adapter.health().ready).toBe(true); },
  },
  {
    name: "every delivery before start fails transiently (the job waits, nothing is lost)",
    async run(s) { await expectAllTransient(s, s.factory.create(s.config)); },
  },
  {
    name: "T-4.1.1 delivers a canonical message to a local user",
    async run(s) {
      const text = unique("out");
      const outcome = await s.adapter.deliverMessage(canonicalTextMessage(s.foreignUser, s.localUser, text));
      expect(["relayed", "delivered"]).toContain(outcome.state);
      await s.expectReceived(text);
    },
  },
  {
    name: "derives its idempotency key from the canonical id: a retry carries the same native ids, another message others",
    async run(s) {
      const message = canonicalTextMessage(s.foreignUser, s.localUser, unique("idempotent"));
      const first = await s.adapter.deliverMessage(message);
      const retry = await s.adapter.deliverMessage(message);
      const other = await s.adapter.deliverMessage({ ...message, id: newCanonicalId() });
      expect(first.nativeIds.length).toBeGreaterThan(0);
      expect(retry.nativeIds).toEqual(first.nativeIds);
      expect(other.nativeIds.map((n) => n.id)).not.toEqual(first.nativeIds.map((n) => n.id));
    },
  },
  classCheck("transient"),
  classCheck("permanent"),
  classCheck("rate-limited"),
  {
    name: "T-5.4.1 reports a delivery status to a local sender",
    async run(s) {
      const text = unique("status");
      await s.adapter.deliverStatus(failedStatus(s, text));
      await s.expectFailureSeen?.(text);
    },
  },
  {
    name: "T-4.1.2 turns a local user's message into a canonical message naming sender and recipient",
    async run(s) {
      const text = unique("in");
      await s.sendFromLocal(text);
      const event = await s.ctx.waitForAccepted(
        (e): e is MessageEvent => e.kind === "message" && e.message.parts.some((p) => p.role === "text" && p.body.includes(text)),
      );
      expect(event.message.from).toEqual(s.localUser);
      expect(event.message.to).toEqual(s.foreignUser);
      expect(event.message.authenticatedBy.method).not.toBe("none");
    },
  },
  answerCheck("acks only after durability: when the core cannot store, the network is told to try later",
    "rejectWith", new ParleyError("PARLEY_UNAVAILABLE", "contract: nothing could be stored"), "try-later"),
  answerCheck("a refusal reaches the sender as the network's own error",
    "refuseWith", new ParleyError("PARLEY_REFUSED", "contract: refused by policy"), "refused"),
  {
    name: "T-3.1.1 shows a foreign presentity's presence to a local watcher, or declares no presence",
    async run(s) {
      if (!s.factory.capabilities.presence) {
        expect(s.expectPresenceSeen).toBeUndefined();
        return;
      }
      if (!deliversPresence(s.adapter)) throw new Error("declares presence but does not implement PresenceDelivery");
      await s.adapter.deliverPresence({ watcher: s.localUser, presence: canonicalPresence(s.foreignUser, "open", Date.now()) });
      await s.expectPresenceSeen!("open");
    },
  },
  {
    name: "stops idempotently",
    async run(s) {
      await s.adapter.stop();
      await s.adapter.stop();
    },
  },
  {
    name: "every delivery after stop fails transiently",
    async run(s) {
      await s.adapter.stop();
      await expectAllTransient(s, s.adapter);
    },
  },
];
