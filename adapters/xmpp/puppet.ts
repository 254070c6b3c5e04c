/** The JID a foreign sender's puppet sends from, on one of Parley's component domains. */
import { DeliveryError } from "../../src/adapter/contract.js";
import type { Message } from "../../src/model/message.js";
import { parseJid, toNative } from "./address.js";
import type { XmppRuntime } from "./stanza.js";

export function puppetOf(rt: XmppRuntime, m: Pick<Message, "from">): string {
  const jid = toNative(m.from, rt.ctx.mappings());
  const domain = parseJid(jid).domain;
  if (!rt.domains.has(domain)) {
    throw new DeliveryError("permanent", "unsupported", `no component link for ${domain}`, { nativeDetail: "component domain not configured" });
  }
  return jid;
}
