/** What an adapter's contract test hands the suite (see adapter-contract.ts). */
import type { Adapter, AdapterFactory, FailureClass } from "../../src/adapter/contract.js";
import type { Endpoint } from "../../src/model/address.js";
import { newCanonicalId } from "../../src/model/ids.js";
import { MessageSchema, type Message } from "../../src/model/message.js";
import { PresenceSchema, type Presence } from "../../src/model/presence.js";
import type { DomainMappings } from "../../src/mappings/types.js";
import type { FakeContext } from "../support/fake-context.js";
import type { InboundAnswer } from "../support/test-double-adapter.js";

export type { InboundAnswer };

export interface ContractSetup {
  factory: AdapterFactory<unknown>;
  adapter: Adapter;
  /** The parsed config section the adapter was made from: the suite makes fresh, never started adapters from it. */
  config: unknown;
  ctx: FakeContext;
  mappings: DomainMappings;
  /** A user whose home is this adapter's network, reachable on the peer. */
  localUser: Endpoint;
  /** A user of another network, as seen from this one (a puppet, an escaped JID, a gateway mail address). */
  foreignUser: Endpoint;
  /** Resolve when the peer shows `localUser` received a message whose text is `text`. */
  expectReceived(text: string): Promise<void>;
  /** Make `localUser` send `text` to `foreignUser` through the peer. */
  sendFromLocal(text: string): Promise<void>;
  /**
   * Like `sendFromLocal`, and say what the local user's side was answered: the network's success,
   * its "try later" (SMTP 4xx, an XMPP `wait` error, an HTTP 503 the homeserver retries), or its
   * refusal. Absent: the ack-after-durability and refusal checks are skipped for this adapter.
   */
  sendAndObserve?(text: string): Promise<InboundAnswer>;
  /** Networks with presence: resolve when the peer shows `localUser` seeing `foreignUser` as `basic`. */
  expectPresenceSeen?(basic: "open" | "closed"): Promise<void>;
  /** Resolve when the peer shows `localUser` a failure report mentioning `text`. */
  expectFailureSeen?(text: string): Promise<void>;
  /**
   * Make the peer fail the next delivery to `localUser` with this class (a refused recipient, a
   * peer down, a peer asking to slow down), at once or later (a bounce: the adapter then reports
   * a failed delivery status); `restore` undoes it. Absent: that class is skipped.
   */
  provokeFailure?(failureClass: FailureClass): Promise<{ restore(): Promise<void> }>;
  /** How long a failure the peer reports after taking the message (a bounce) may take; default 10 s. */
  laterFailureMs?: number;
  teardown(): Promise<void>;
}

export function canonicalTextMessage(from: Endpoint, to: Endpoint, text: string): Message {
  return MessageSchema.parse({
    id: newCanonicalId(),
    from,
    to,
    authenticatedBy: { method: "network", detail: "contract suite" },
    sentAt: new Date().toISOString(),
    kind: "chat",
    parts: [{ role: "text", body: text }],
  });
}

export function canonicalPresence(presentity: Endpoint, basic: "open" | "closed", version: number): Presence {
  return PresenceSchema.parse({
    presentity,
    tuples: [{ id: "contract", basic, timestamp: new Date().toISOString(), note: { en: `contract ${basic}` } }],
    version,
    provenance: { source: "origin" },
  });
}
