/**
 * What a target network can show of a message's everyday features (issue 18): a reaction or a
 * retraction goes only to a network that declares it (`AdapterCapabilities.chat`), else it is
 * dropped and logged; a reply to a network without replies goes as a plain message.
 */
import type { AdapterCapabilities } from "../adapter/contract.js";
import { chatFeaturesOf } from "../adapter/features.js";
import type { NetworkId } from "../model/address.js";
import { interactionOf } from "../model/interactions.js";
import type { Message } from "../model/message.js";
import type { Logger } from "../log/logger.js";

export function fitToFeatures(message: Message, caps: AdapterCapabilities, network: NetworkId, log: Logger): Message | "not-shown" {
  const features = chatFeaturesOf(caps);
  const feature = interactionOf(message);
  if (feature !== undefined && !features[feature]) {
    log.info({ event: "feature-dropped", messageId: message.id, feature, network, from: message.from.address, to: message.to.address }, `${network} cannot show ${feature}: dropped`);
    return "not-shown";
  }
  if (message.inReplyTo !== undefined && !features.replies) {
    const { inReplyTo: _dropped, ...plain } = message;
    return plain;
  }
  return message;
}
