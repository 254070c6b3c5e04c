/** How canonical objects become delivery jobs: keys, conversations, targets. */
import { endpointKey, type Endpoint, type NetworkId } from "../model/address.js";
import type { Message } from "../model/message.js";
import type { DeliveryStatus } from "../model/delivery-status.js";
import type { DeliveryJobSpec } from "../delivery/types.js";

/** A conversation is the ordered pair sender → recipient (DESIGN §3). */
export function conversationKey(from: Endpoint, to: Endpoint): string {
  return `${endpointKey(from)}>${endpointKey(to)}`;
}

export function messageJob(message: Message, target: NetworkId): DeliveryJobSpec {
  return {
    kind: "message",
    network: target,
    conversation: conversationKey(message.from, message.to),
    key: `m.${message.id}.${endpointKey(message.to)}`,
    payload: message,
  };
}

/** A status goes to the sender's network; ordered with the sender's other statuses for that recipient. */
export function statusJob(status: DeliveryStatus): DeliveryJobSpec {
  return {
    kind: "status",
    network: status.sender.network,
    conversation: `status>${conversationKey(status.recipient, status.sender)}`,
    key: `s.${status.messageId}.${status.state}.${endpointKey(status.recipient)}`,
    payload: status,
  };
}
