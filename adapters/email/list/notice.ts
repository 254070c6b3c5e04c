/** A short automatic mail from a list to one mailbox (subscribed, unsubscribed): RFC 3834 auto-replied. */
import type { EmailConfig } from "../config.js";
import type { MailSender } from "../outbound.js";
import { listHeaders } from "./address.js";

/** `name` is the room's link name, as in every mail of the list. */
export async function sendListNotice(sender: MailSender, config: EmailConfig, list: string, name: string, to: string, text: string): Promise<void> {
  await sender.send({
    envelope: { from: config.bounceAddress, to: [to] },
    from: { name, address: list },
    to,
    subject: `[${name}] ${text.split(".")[0]}`,
    text,
    headers: { ...listHeaders(list, name), "Auto-Submitted": "auto-replied" },
  }, list.slice(list.lastIndexOf("@") + 1), to);
}
