/**
 * Messages both ways through the real Prosody with real clients (RFC 6121 §5; XEP-0184, XEP-0308,
 * XEP-0359), with the adapter on a FakeContext: the core's answers are scripted here, the XMPP
 * side is real.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DeliveryStatusEvent, MessageEvent } from "../../../src/model/events.js";
import { endpoint } from "../../../src/model/address.js";
import { MessageSchema, type Message } from "../../../src/model/message.js";
import { newCanonicalId } from "../../../src/model/ids.js";
import { ParleyError } from "../../../src/errors/parley-error.js";
import type { XmppAdapter } from "../../../adapters/xmpp/index.js";
import type { FakeContext } from "../../support/fake-context.js";
import { connectUser, prosody, startAdapter, xml, type Stanza, type TestUser } from "./support.js";

const NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas";
const condition = (s: Stanza) => s.getChild("error")?.getChildElements().find((c) => c.attrs.xmlns === NS_STANZAS && c.name !== "text")?.name;

describe("XMPP messages through Prosody", () => {
  let adapter: XmppAdapter;
  let ctx: FakeContext;
  let bob: TestUser;
  let carol: TestUser;
  const refuseTo = new Set<string>();
  const domain = () => prosody().userDomain;

  beforeAll(async () => {
    ({ adapter, ctx } = await startAdapter({ ctx: { decide: (e) => (e.kind === "message" && refuseTo.has(e.message.to.address)
      ? { status: "refused", error: new ParleyError("PARLEY_REFUSED") } : { status: "accepted" }) } }));
    bob = await connectUser("bob", { resource: "laptop" });
    carol = await connectUser("carol", { resource: "phone" });
  });
  afterAll(async () => {
    await bob?.stop();
    await carol?.stop();
    await adapter?.stop();
  });

  function canonical(to: string, text: string, extra: Partial<Message> = {}): Message {
    return MessageSchema.parse({
      id: newCanonicalId(), from: endpoint("dan@matrix.test", "matrix"), to: endpoint(to, "xmpp"),
      authenticatedBy: { method: "network" }, sentAt: new Date().toISOString(), kind: "chat",
      parts: [{ role: "text", body: text }], ...extra,
    });
  }

  it("T-4.1.2 T-4.1.5 an XMPP user's message is accepted with the right canonical fields", async () => {
    await bob.send(xml("message", { type: "chat", to: "carol\\40example.org@email.gw.test", id: "b-1", "xml:lang": "cs" },
      xml("subject", {}, "Předmět\r\nBcc: evil@example.org"), xml("subject", { "xml:lang": "en" }, "Subject"),
      xml("body", {}, "Dobrý den 👋"), xml("thread", {}, "th-42"),
      xml("origin-id", { xmlns: "urn:xmpp:sid:0", id: "origin-b-1" }), xml("request", { xmlns: "urn:xmpp:receipts" })));
    const ev = await ctx.waitForAccepted((e): e is MessageEvent => e.kind === "message" && e.message.thread === "th-42");
    const m = ev.message;
    expect(m.from).toEqual(endpoint(`bob@${domain()}`, "xmpp"));
    expect(m.to).toEqual(endpoint("carol@example.org", "email"));
    expect(m.kind).toBe("chat");
    expect(m.lang).toBe("cs");
    expect(m.subject).toEqual({ cs: "Předmět Bcc: evil@example.org", en: "Subject" });
    expect(m.parts).toEqual([{ role: "text", body: "Dobrý den 👋", lang: "cs" }]);
    expect(m.receiptRequest).toEqual({ delivered: true, displayed: false });
    expect(m.authenticatedBy.method).toBe("network");
    expect(m.nativeIds).toEqual(expect.arrayContaining([
      { network: "xmpp", kind: "message-id", id: "b-1", scope: `bob@${domain()}/laptop` },
      { network: "xmpp", kind: "origin-id", id: "origin-b-1", scope: `bob@${domain()}` },
    ]));
    // Where a status goes back to is recorded before the core sees the message.
    expect(JSON.parse((await ctx.state.get(`origin:${m.id}`))!)).toEqual({ id: "b-1", jid: `bob@${domain()}/laptop`, receipt: true, markable: false });
  });

  it("DESIGN §3 order: a burst from one sender reaches the core in the order it was sent", async () => {
    const n = 100;
    // The core answers with jitter, as Redis does under load: order must not depend on its timing.
    const accept = ctx.accept.bind(ctx);
    ctx.accept = async (events) => {
      await new Promise((r) => setTimeout(r, Math.random() * 4));
      return accept(events);
    };
    try {
      for (let i = 0; i < n; i++) void bob.send(xml("message", { type: "chat", to: "gus@matrix.test", id: `burst-${i}` }, xml("body", {}, `burst ${i}`)));
      await ctx.waitForAccepted((e): e is MessageEvent => e.kind === "message" && e.message.nativeIds.some((x) => x.id === `burst-${n - 1}`));
    } finally {
      ctx.accept = accept;
    }
    const order = ctx.accepted.filter((e): e is MessageEvent => e.kind === "message" && e.message.to.address === "gus@matrix.test")
      .map((e) => e.message.nativeIds.find((x) => x.kind === "message-id")!.id);
    expect(order).toEqual(Array.from({ length: n }, (_, i) => `burst-${i}`));
  });

  it("T-4.1.1 a canonical message arrives as the right stanza from the right puppet JID", async () => {
    const m = canonical(`carol@${domain()}`, "hello from matrix", {
      subject: { en: "Hi", de: "Hallo" }, thread: "t-1", lang: "en", receiptRequest: { delivered: true, displayed: false },
    });
    const outcome = await adapter.deliverMessage(m);
    expect(outcome.state).toBe("relayed");
    const s = await carol.inbox.next((x) => x.is("message") && x.getChildText("body") === "hello from matrix");
    expect(s.attrs.from).toBe("dan@matrix.test");
    expect(s.attrs.type).toBe("chat");
    expect(s.attrs.id).toBe(`parley-${m.id}`);
    expect(s.attrs["xml:lang"]).toBe("en");
    expect(s.getChildText("thread")).toBe("t-1");
    expect(s.getChildren("subject").map((x) => [x.attrs["xml:lang"], x.text()])).toEqual([["en", "Hi"], ["de", "Hallo"]]);
    expect(s.getChild("origin-id", "urn:xmpp:sid:0")?.attrs.id).toBe(`parley-${m.id}`);
    expect(s.getChild("request", "urn:xmpp:receipts")).toBeDefined();
    expect(s.getChildText("hops", "urn:parley:hops:0")).toBe(String(m.hops)); // DESIGN §3: on the wire
    // A foreign user of an unlisted-appearance domain comes from the shared, escaped form.
    const e = canonical(`carol@${domain()}`, "from mail", { from: endpoint("Erin.O'Neil@example.org", "email") });
    await adapter.deliverMessage(e);
    const s2 = await carol.inbox.next((x) => x.is("message") && x.getChildText("body") === "from mail");
    expect(s2.attrs.from).toBe("\\45rin.\\4f\\27\\4eeil\\40example.org@email.gw.test");
  });

  it("T-4.2.1 a <received/> from the XMPP recipient becomes a delivered status for the foreign sender", async () => {
    const m = canonical(`carol@${domain()}`, "please confirm", { receiptRequest: { delivered: true, displayed: false } });
    await adapter.deliverMessage(m);
    const s = await carol.inbox.next((x) => x.is("message") && x.getChildText("body") === "please confirm");
    await carol.send(xml("message", { to: s.attrs.from, id: "rcpt-1" }, xml("received", { xmlns: "urn:xmpp:receipts", id: s.attrs.id })));
    const ev = await ctx.waitForAccepted((e): e is DeliveryStatusEvent => e.kind === "delivery-status" && e.status.messageId === m.id);
    expect(ev.status.state).toBe("delivered");
    expect(ev.status.sender).toEqual(m.from);
    expect(ev.status.recipient).toEqual(m.to);
  });

  it("T-4.2.1 T-5.4.1 a delivery status for an XMPP sender: receipt when delivered, stanza error when failed", async () => {
    await bob.send(xml("message", { type: "chat", to: "dan@matrix.test", id: "b-rcpt" }, xml("body", {}, "receipt please"), xml("request", { xmlns: "urn:xmpp:receipts" })));
    const ev = await ctx.waitForAccepted((e): e is MessageEvent => e.kind === "message" && e.message.nativeIds.some((n) => n.id === "b-rcpt"));
    const at = new Date().toISOString();
    // No <request/>, no <received/> (XEP-0184 §5), whatever the core reports.
    await bob.send(xml("message", { type: "chat", to: "dan@matrix.test", id: "b-norcpt" }, xml("body", {}, "no receipt wanted")));
    const plain = await ctx.waitForAccepted((e): e is MessageEvent => e.kind === "message" && e.message.nativeIds.some((n) => n.id === "b-norcpt"));
    await adapter.deliverStatus({ messageId: plain.message.id, sender: plain.message.from, recipient: plain.message.to, state: "delivered", at, extensions: {} });
    await adapter.deliverStatus({ messageId: ev.message.id, sender: ev.message.from, recipient: ev.message.to, state: "relayed", at, extensions: {} });
    await adapter.deliverStatus({ messageId: ev.message.id, sender: ev.message.from, recipient: ev.message.to, state: "delivered", at, extensions: {} });
    const r = await bob.inbox.next((x) => x.is("message") && x.getChild("received", "urn:xmpp:receipts") !== undefined);
    expect(r.attrs.from).toBe("dan@matrix.test");
    expect(r.getChild("received", "urn:xmpp:receipts")?.attrs.id).toBe("b-rcpt");
    expect(bob.inbox.seen.filter((x) => x.getChild("received", "urn:xmpp:receipts"))).toHaveLength(0); // relayed answered nothing
    await adapter.deliverStatus({ messageId: ev.message.id, sender: ev.message.from, recipient: ev.message.to, state: "failed", reason: "timeout", text: "Matrix homeserver did not answer", at, extensions: {} });
    const err = await bob.inbox.next((x) => x.is("message") && x.attrs.type === "error");
    expect(err.attrs.id).toBe("b-rcpt");
    expect(err.attrs.from).toBe("dan@matrix.test");
    expect(condition(err)).toBe("remote-server-timeout");
    expect(err.getChild("error")?.getChildText("text", NS_STANZAS)).toBe("Matrix homeserver did not answer");
  });

  it("T-5.4.1 T-2.3.5 refusals come back as stanza errors in XMPP's vocabulary", async () => {
    refuseTo.add("blocked@matrix.test");
    await bob.send(xml("message", { type: "chat", to: "blocked@matrix.test", id: "b-ref" }, xml("body", {}, "x")));
    const refused = await bob.inbox.next((x) => x.attrs.id === "b-ref" && x.attrs.type === "error");
    expect(condition(refused)).toBe("service-unavailable"); // neutral: does not disclose a block
    await bob.send(xml("message", { type: "chat", to: "carol\\40example.org@matrix.gw.test", id: "b-unk" }, xml("body", {}, "x")));
    expect(condition(await bob.inbox.next((x) => x.attrs.id === "b-unk" && x.attrs.type === "error"))).toBe("item-not-found");
    await bob.send(xml("message", { type: "chat", to: "x\\40denied.example@email.gw.test", id: "b-den" }, xml("body", {}, "x")));
    expect(condition(await bob.inbox.next((x) => x.attrs.id === "b-den" && x.attrs.type === "error"))).toBe("item-not-found");
    await bob.send(xml("message", { type: "chat", to: "dan@matrix.test", id: "b-big" }, xml("body", {}, "y".repeat(70 * 1024))));
    expect(condition(await bob.inbox.next((x) => x.attrs.id === "b-big" && x.attrs.type === "error"))).toBe("policy-violation");
    await bob.send(xml("message", { type: "groupchat", to: "dan@matrix.test", id: "b-gc" }, xml("body", {}, "x")));
    expect(condition(await bob.inbox.next((x) => x.attrs.id === "b-gc" && x.attrs.type === "error"))).toBe("feature-not-implemented");
  });

  it("T-5.4.1 a bounce of Parley's own send becomes a failed status for the foreign sender", async () => {
    const m = canonical(`nosuchuser@${domain()}`, "to nobody");
    await adapter.deliverMessage(m);
    const ev = await ctx.waitForAccepted((e): e is DeliveryStatusEvent => e.kind === "delivery-status" && e.status.messageId === m.id);
    expect(ev.status.state).toBe("failed");
    expect(ev.status.sender).toEqual(m.from);
    expect(["refused-by-policy", "recipient-unknown"]).toContain(ev.status.reason);
  });

  it("XEP-0308 corrections map to canonical edits both ways", async () => {
    await bob.send(xml("message", { type: "chat", to: "dan@matrix.test", id: "b-orig" }, xml("body", {}, "teh")));
    const orig = await ctx.waitForAccepted((e): e is MessageEvent => e.kind === "message" && e.message.nativeIds.some((n) => n.id === "b-orig"));
    await bob.send(xml("message", { type: "chat", to: "dan@matrix.test", id: "b-fix" }, xml("body", {}, "the"), xml("replace", { xmlns: "urn:xmpp:message-correct:0", id: "b-orig" })));
    const fix = await ctx.waitForAccepted((e): e is MessageEvent => e.kind === "message" && e.message.nativeIds.some((n) => n.id === "b-fix"));
    expect(fix.message.replaces).toBe(orig.message.id);
    await bob.send(xml("message", { type: "chat", to: "dan@matrix.test", id: "b-fix2" }, xml("body", {}, "orphan"), xml("replace", { xmlns: "urn:xmpp:message-correct:0", id: "unknown" })));
    const orphan = await ctx.waitForAccepted((e): e is MessageEvent => e.kind === "message" && e.message.nativeIds.some((n) => n.id === "b-fix2"));
    expect(orphan.message.replaces).toBeUndefined();
    expect(orphan.message.parts[0]).toMatchObject({ body: "[correction] orphan" });
    const first = canonical(`carol@${domain()}`, "wrnog");
    await adapter.deliverMessage(first);
    await adapter.deliverMessage(canonical(`carol@${domain()}`, "wrong", { replaces: first.id }));
    const s = await carol.inbox.next((x) => x.is("message") && x.getChildText("body") === "wrong");
    expect(s.getChild("replace", "urn:xmpp:message-correct:0")?.attrs.id).toBe(`parley-${first.id}`);
  });

  it("XEP-0030 XEP-0199 disco and ping are answered; unknown IQs get service-unavailable", async () => {
    const info = await bob.xmpp.iqCaller.request(xml("iq", { type: "get", to: "matrix.gw.test" }, xml("query", { xmlns: "http://jabber.org/protocol/disco#info" })));
    const q = info.getChild("query", "http://jabber.org/protocol/disco#info")!;
    expect(q.getChild("identity")?.attrs).toMatchObject({ category: "gateway", type: "matrix" });
    const features = q.getChildren("feature").map((f) => f.attrs.var);
    expect(features).toEqual(expect.arrayContaining(["jid\\20escaping", "urn:xmpp:receipts", "urn:xmpp:ping"]));
    const puppet = await bob.xmpp.iqCaller.request(xml("iq", { type: "get", to: "dan@matrix.test" }, xml("query", { xmlns: "http://jabber.org/protocol/disco#info" })));
    expect(puppet.getChild("query")?.getChildren("feature").map((f) => f.attrs.var)).toContain("urn:xmpp:receipts");
    const pong = await bob.xmpp.iqCaller.request(xml("iq", { type: "get", to: "email.gw.test" }, xml("ping", { xmlns: "urn:xmpp:ping" })));
    expect(pong.attrs.type).toBe("result");
    await expect(bob.xmpp.iqCaller.request(xml("iq", { type: "get", to: "matrix.test" }, xml("query", { xmlns: "jabber:iq:version" }))))
      .rejects.toMatchObject({ condition: "service-unavailable" });
  });
});
