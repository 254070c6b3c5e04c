/**
 * Issue 10, duplicates: a message the XMPP server confirmed on this process is not written again
 * when its job runs again because the core's `sent` marker could not be written (Redis killed
 * between the confirmation and the marker: src/adapter/confirmed-sends.ts). One whose confirmation
 * never came (its connection died) is written again, with the same id and origin-id.
 */
import { describe, expect, it } from "vitest";
import { deliverMessage } from "../../../adapters/xmpp/outbound.js";
import { ConfirmedSends } from "../../../src/adapter/confirmed-sends.js";
import { XmppConfigSchema } from "../../../adapters/xmpp/config.js";
import type { ComponentLink, XmlElement } from "../../../adapters/xmpp/connection.js";
import type { XmppRuntime } from "../../../adapters/xmpp/stanza.js";
import { endpoint, asNetworkId } from "../../../src/model/address.js";
import { MessageSchema, type Message } from "../../../src/model/message.js";
import { newCanonicalId } from "../../../src/model/ids.js";
import { silentLogger } from "../../../src/log/logger.js";
import { FakeContext } from "../../support/fake-context.js";
import { testMappings } from "../../support/mappings.js";

const mappings = testMappings({
  networks: { xmpp: { settings: { sharedDomains: { matrix: "matrix.gw.example.org" } } }, matrix: {} },
  domains: { "chat.example.org": { home: "xmpp" }, "matrix.example.org": { home: "matrix" } },
});

/** A link whose server confirms (or, with `fail`, whose connection dies before confirming). */
class FakeLink {
  readonly sent: XmlElement[] = [];
  fail = false;
  isOnline(): boolean { return true; }
  generation(): number { return 1; }
  channel(): string { return "xmpp:test:1"; }
  async send(el: XmlElement): Promise<number> { this.sent.push(el); return 1; }
  async confirmWritten(): Promise<void> { if (this.fail) throw new Error("connection closed before the server confirmed"); }
}

function setup(): { rt: XmppRuntime; link: FakeLink } {
  const link = new FakeLink();
  const rt: XmppRuntime = {
    ctx: new FakeContext({ network: asNetworkId("xmpp"), mappings }), config: XmppConfigSchema.parse({ componentSecret: "s" }), log: silentLogger(),
    link: link as unknown as ComponentLink, domains: new Set(["matrix.gw.example.org"]), confirmed: new ConfirmedSends(),
  };
  return { rt, link };
}

const message = (to = "alice@chat.example.org"): Message => MessageSchema.parse({
  id: newCanonicalId(), from: endpoint("bob@matrix.example.org", "matrix"), to: endpoint(to, "xmpp"),
  authenticatedBy: { method: "network" }, sentAt: new Date().toISOString(), kind: "chat", parts: [{ role: "text", body: "hi" }],
});

describe("XMPP outbound after a failed `sent` marker (issue 10)", () => {
  it("does not write a message again that the server confirmed here (pipelined and not)", async () => {
    const { rt, link } = setup();
    const m = message();
    const first = await deliverMessage(rt, m, {});
    await first.pending!.confirmed;
    expect(link.sent).toHaveLength(1);
    // The job runs again (its marker was never written): relayed, the same native ids, nothing written.
    const again = await deliverMessage(rt, m, {});
    expect(again.pending).toBeUndefined();
    expect(again.nativeIds).toEqual(first.nativeIds);
    expect(link.sent).toHaveLength(1);
    const n = message();
    await deliverMessage(rt, n);
    await deliverMessage(rt, n);
    expect(link.sent).toHaveLength(2);
    // The same message to another recipient is another delivery.
    await deliverMessage(rt, { ...m, to: endpoint("carol@chat.example.org", "xmpp") }, {}).then((o) => o.pending!.confirmed);
    expect(link.sent).toHaveLength(3);
  });

  it("writes again, with the same id and origin-id, what the server never confirmed", async () => {
    const { rt, link } = setup();
    const m = message();
    link.fail = true;
    const first = await deliverMessage(rt, m, {});
    await expect(first.pending!.confirmed).rejects.toThrow(/did not confirm/);
    link.fail = false;
    await (await deliverMessage(rt, m, {})).pending!.confirmed;
    expect(link.sent).toHaveLength(2);
    expect(link.sent[1]!.attrs.id).toBe(link.sent[0]!.attrs.id);
    expect(link.sent[1]!.getChild("origin-id")!.attrs.id).toBe(link.sent[0]!.getChild("origin-id")!.attrs.id);
  });

  it("remembers a bounded number of confirmations", () => {
    const c = new ConfirmedSends(3);
    for (const id of ["a", "b", "c", "d"]) c.add(id, "x");
    expect(["a", "b", "c", "d"].map((id) => c.has(id, "x"))).toEqual([false, true, true, true]);
  });
});
