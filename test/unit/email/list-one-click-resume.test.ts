/**
 * Issue 12 §5 with RFC 8058 one-click on: a list mail is one copy per member; when the relay fails
 * in the middle of a batch, the retry sends only the copies not yet taken (no member gets two),
 * and a member the relay refuses for good is skipped, not the whole list.
 */
import { describe, expect, it } from "vitest";
import { ListOutbound, type ListOutboundDeps } from "../../../adapters/email/list/outbound.js";
import { ListMembers } from "../../../adapters/email/list/members.js";
import { EmailConfigSchema } from "../../../adapters/email/config.js";
import { verifyToken } from "../../../adapters/email/list/one-click.js";
import { DeliveryError } from "../../../src/adapter/contract.js";
import { endpoint } from "../../../src/model/address.js";
import { newCanonicalId } from "../../../src/model/ids.js";
import { RoomDeliverySchema } from "../../../src/model/room-events.js";
import { silentLogger } from "../../../src/log/logger.js";
import { MemoryIdMap, MemoryStateStore } from "../../support/fake-context.js";
import { testMappings } from "../../support/mappings.js";
import type { Options as MailOptions } from "nodemailer/lib/mailer";

const LIST = "team@lists.example.org";
const key = Buffer.from("resume-test-key-0123456789");

/** A relay that takes copies, fails once (transiently) after `failAfter` of them, and refuses `refuse` for good. */
function relay(failAfter: number, refuse: string) {
  const got: string[] = [];
  let failed = false;
  return {
    got,
    canSign: () => false,
    send: () => Promise.reject(new Error("one-click sends copies")),
    async sendEach(mails: readonly MailOptions[], _d: unknown, _r: unknown, start: number, onSent: (i: number) => Promise<void>, onRefused: (i: number, e: unknown) => void) {
      for (let i = start; i < mails.length; i++) {
        const to = (mails[i]!.envelope as { to: string[] }).to;
        expect(to).toHaveLength(1);
        if (to[0] === refuse) { onRefused(i, new Error("550 no such user")); continue; }
        if (!failed && got.length === failAfter) { failed = true; throw new DeliveryError("transient", "unavailable", "relay went away"); }
        const link = /\?([^>]+)>/.exec(String((mails[i]!.headers as Record<string, string>)["List-Unsubscribe"]))![1]!;
        expect(verifyToken(key, link)?.mailbox).toBe(to[0]);
        got.push(to[0]!);
        await onSent(i);
      }
    },
  };
}

describe("one-click list mail: one copy per member, resumed after a failure", () => {
  it("a retry after a relay failure mid-batch sends only the rest; a refused member is skipped", async () => {
    const store = new MemoryStateStore();
    const members = new ListMembers(store);
    const all = Array.from({ length: 7 }, (_, i) => `m${i}@example.org`);
    for (const m of all) await members.add(LIST, m);
    const sender = relay(3, "m5@example.org");
    const deps = {
      config: EmailConfigSchema.parse({}), store, ids: new MemoryIdMap(), members, sender, log: silentLogger(),
      mappings: () => testMappings({ networks: { xmpp: {}, email: {} }, domains: { "chat.example.org": { home: "xmpp", appearsOn: { email: { mailDomain: "chat.example.org" } } }, "example.org": { home: "email" } } }),
      blobs: {}, media: undefined, oneClick: { base: "https://lists.example.org", key },
    } as unknown as ListOutboundDeps;
    const list = new ListOutbound(deps);
    const delivery = RoomDeliverySchema.parse({
      room: { key: "link:team", address: "team@conference.chat.example.org", home: "xmpp" },
      target: { network: "email", id: LIST },
      activity: { type: "message", message: { id: newCanonicalId(), from: endpoint("alice@chat.example.org", "xmpp"), authenticatedBy: { method: "network" }, sentAt: new Date().toISOString(), parts: [{ role: "text", body: "hi" }] } },
    });
    await expect(list.deliver(delivery)).rejects.toMatchObject({ failureClass: "transient" });
    expect(sender.got).toEqual(all.slice(0, 3));
    await list.deliver(delivery);
    expect(sender.got).toEqual(all.filter((m) => m !== "m5@example.org"));
    // Done: a third attempt (a duplicate job) sends nothing more.
    await list.deliver(delivery);
    expect(sender.got).toHaveLength(6);
  });
});
