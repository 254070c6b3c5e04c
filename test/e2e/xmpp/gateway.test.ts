/**
 * The XMPP adapter inside the real gateway with real clients on Prosody; a test double plays the
 * Matrix side. Covers the end-to-end list: ingress with the right canonical fields,
 * egress from the right puppet, a receipt answered with the real outcome, presence both ways,
 * a subscription cycle through the core, a deep failure back as a stanza error, and a Prosody
 * restart with messages queued while it was down.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { asNetworkId, endpoint } from "../../../src/model/address.js";
import { MessageSchema, plainText, type Message } from "../../../src/model/message.js";
import { PresenceSchema } from "../../../src/model/presence.js";
import { newCanonicalId } from "../../../src/model/ids.js";
import { startProsody, stopProsody } from "../../harness/prosody/prosody.js";
import { connectUser, prosody, xml, type Stanza, type TestUser } from "./support.js";
import { startXmppGateway, type XmppGateway } from "./gateway-support.js";
import { until } from "../../support/until.js";

const MATRIX = asNetworkId("matrix");
const NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas";
const condition = (s: Stanza) => s.getChild("error")?.getChildElements().find((c) => c.attrs.xmlns === NS_STANZAS && c.name !== "text")?.name;

describe("XMPP through the gateway", () => {
  let x: XmppGateway;
  let frank: TestUser;
  let grace: TestUser;
  const c = () => prosody();
  const dan = endpoint("dan@matrix.test", "matrix");
  const at = () => new Date().toISOString();
  const fromMatrix = (to: string, text: string, extra: Partial<Message> = {}) => MessageSchema.parse({
    id: newCanonicalId(), from: dan, to: endpoint(to, "xmpp"), authenticatedBy: { method: "network" },
    sentAt: at(), kind: "chat", parts: [{ role: "text", body: text }], ...extra,
  });

  beforeAll(async () => {
    x = await startXmppGateway(c(), process.env.XMPP_DEBUG ? { log: (await import("pino")).pino({ level: "debug" }) } : {});
    frank = await connectUser("frank", { resource: "gw" });
    grace = await connectUser("grace", { resource: "gw" });
  });
  afterAll(async () => {
    await frank?.stop();
    await grace?.stop();
    await x?.gw.destroy();
  });

  it("T-4.1.2 an XMPP user's message is accepted into the core with the right canonical fields and delivered", async () => {
    await frank.send(xml("message", { type: "chat", to: "dan@matrix.test", id: "gw-1", "xml:lang": "en" }, xml("subject", {}, "s"), xml("body", {}, "to matrix"), xml("thread", {}, "gw-th")));
    const m = await until("matrix delivery", () => x.matrix.peer.messages.find((mm) => plainText(mm) === "to matrix"));
    expect(m.from).toEqual(endpoint(`frank@${c().userDomain}`, "xmpp"));
    expect(m.to).toEqual(dan);
    expect(m).toMatchObject({ kind: "chat", thread: "gw-th", lang: "en", subject: { en: "s" } });
    expect(m.authenticatedBy.method).toBe("network");
  });

  it("T-2.5.2 a replayed stanza (same id and origin-id from the same session) is delivered once", async () => {
    const stanza = () => xml("message", { type: "chat", to: "dan@matrix.test", id: "gw-replay" }, xml("body", {}, "only once"),
      xml("origin-id", { xmlns: "urn:xmpp:sid:0", id: "origin-gw-replay" }));
    await frank.send(stanza());
    await frank.send(stanza());
    await frank.send(xml("message", { type: "chat", to: "dan@matrix.test", id: "gw-replay-after" }, xml("body", {}, "after the replay")));
    await until("the message after the replay", () => x.matrix.peer.messages.find((mm) => plainText(mm) === "after the replay"));
    expect(x.matrix.peer.messages.filter((mm) => plainText(mm) === "only once")).toHaveLength(1);
  });

  it("T-4.1.1 a canonical message reaches the XMPP user as the right stanza from the right puppet JID", async () => {
    const m = fromMatrix(`grace@${c().userDomain}`, "to xmpp via core");
    const [r] = await x.gw.gateway.accept(MATRIX, [{ kind: "message", message: m }]);
    expect(r?.status).toBe("accepted");
    const s = await grace.inbox.next((st) => st.is("message") && st.getChildText("body") === "to xmpp via core");
    expect(s.attrs.from).toBe("dan@matrix.test");
    expect(s.attrs.id).toBe(`parley-${m.id}`);
  });

  it("T-4.2.1 a receipt requested by an XMPP sender is answered with the real delivery outcome", async () => {
    await frank.send(xml("message", { type: "chat", to: "dan@matrix.test", id: "gw-rcpt" }, xml("body", {}, "read me"), xml("request", { xmlns: "urn:xmpp:receipts" })));
    const m = await until("matrix delivery", () => x.matrix.peer.messages.find((mm) => plainText(mm) === "read me"));
    expect(m.receiptRequest?.delivered).toBe(true);
    // The hand-off (relayed) answers nothing; the Matrix side then proves delivery (a read marker).
    await x.gw.gateway.accept(MATRIX, [{ kind: "delivery-status", status: { messageId: m.id, sender: m.from, recipient: m.to, state: "delivered", at: at(), extensions: {} } }]);
    const r = await frank.inbox.next((s) => s.getChild("received", "urn:xmpp:receipts") !== undefined);
    expect(r.getChild("received", "urn:xmpp:receipts")?.attrs.id).toBe("gw-rcpt");
    expect(r.attrs.from).toBe("dan@matrix.test");
  });

  it("T-5.4.1 a failure deep in delivery comes back to the XMPP sender as a stanza error", async () => {
    x.matrix.peer.failWith = "permanent";
    try {
      await frank.send(xml("message", { type: "chat", to: "dan@matrix.test", id: "gw-fail" }, xml("body", {}, "doomed")));
      const err = await frank.inbox.next((s) => s.attrs.id === "gw-fail" && s.attrs.type === "error", 20_000);
      expect(condition(err)).toBe("item-not-found"); // the test double fails with recipient-unknown
      expect(err.attrs.from).toBe("dan@matrix.test");
    } finally {
      x.matrix.peer.failWith = undefined;
    }
  });

  it("T-5.1.2 T-5.1.4 T-5.1.9 T-3.1.1 subscribe, approve, presence of the puppet, presence of the user, unsubscribe — through the core", async () => {
    await grace.send(xml("presence", { type: "subscribe", to: "dan@matrix.test" }));
    const notice = await until("subscription request at matrix", () => x.matrix.peer.subscriptions.find((n) => n.notice === "request" && n.subscription.watcher.address === `grace@${c().userDomain}`));
    expect(notice.to).toEqual(dan);
    await x.gw.gateway.accept(MATRIX, [{ kind: "subscription", request: {
      action: "approve", watcher: notice.subscription.watcher, presentity: dan, actor: dan, authenticatedBy: { method: "network" }, at: at(),
    } }]);
    await grace.inbox.next((s) => s.is("presence") && s.attrs.type === "subscribed" && s.attrs.from === "dan@matrix.test", 15_000);
    await x.gw.gateway.accept(MATRIX, [{ kind: "presence", authenticatedBy: { method: "network" }, presence: PresenceSchema.parse({
      presentity: dan, version: Date.now(), provenance: { source: "origin" },
      tuples: [{ id: "web", basic: "open", show: "away", note: { en: "afk" }, timestamp: at() }],
    }) }]);
    const p = await grace.inbox.next((s) => s.is("presence") && s.attrs.from === "dan@matrix.test/web" && s.attrs.type === undefined, 15_000);
    expect(p.getChildText("show")).toBe("away");
    // The other direction: the puppet asks to see grace, grace approves on her roster, and her
    // presence then reaches the core and the Matrix side.
    const graceEp = endpoint(`grace@${c().userDomain}`, "xmpp");
    await x.gw.gateway.accept(MATRIX, [{ kind: "subscription", request: {
      action: "request", watcher: dan, presentity: graceEp, actor: dan, authenticatedBy: { method: "network" }, at: at(),
    } }]);
    await grace.inbox.next((s) => s.is("presence") && s.attrs.type === "subscribe" && s.attrs.from === "dan@matrix.test", 15_000, "subscribe from the puppet");
    await grace.send(xml("presence", { type: "subscribed", to: "dan@matrix.test" }));
    await until("approved in the core", async () => (await x.gw.presence.subscriptionsOf(graceEp, "watchers")).find((s) => s.watcher.address === dan.address && s.state === "approved"));
    await grace.send(xml("presence", {}, xml("show", {}, "xa"), xml("status", {}, "gone fishing")));
    const seen = await until("grace's presence at the Matrix side", () => x.matrix.peer.presences.find((n) => n.presence.presentity.address === graceEp.address && n.presence.tuples.some((t) => t.show === "xa")));
    expect(seen.watcher).toEqual(dan);
    expect(seen.presence.tuples.find((t) => t.show === "xa")?.note).toEqual({ en: "gone fishing" }); // Prosody stamps the stream's xml:lang
    await grace.send(xml("presence", { type: "unsubscribe", to: "dan@matrix.test" }));
    await until("cancelled subscription", async () => {
      const subs = await x.gw.presence.subscriptionsOf(dan, "watchers");
      return subs.find((s) => s.watcher.address === `grace@${c().userDomain}` && s.state === "cancelled") ?? (subs.length === 0 ? true : undefined);
    });
  });

  it("T-3.2.4 Prosody killed and restarted mid-conversation: the adapter reconnects and queued messages arrive", async () => {
    const coords = c();
    const before = fromMatrix(`grace@${coords.userDomain}`, "before the crash");
    await x.gw.gateway.accept(MATRIX, [{ kind: "message", message: before }]);
    await grace.inbox.next((s) => s.getChildText("body") === "before the crash");
    await stopProsody(coords, "SIGKILL");
    await grace.stop();
    await frank.stop();
    const during = Array.from({ length: 5 }, (_, i) => fromMatrix(`grace@${coords.userDomain}`, `while down ${i}`));
    for (const m of during) expect((await x.gw.gateway.accept(MATRIX, [{ kind: "message", message: m }]))[0]?.status).toBe("accepted");
    await until("adapter sees the link down", () => (x.gw.gateway.health().xmpp?.ready === false ? true : undefined), 5_000);
    await startProsody(coords);
    const restartedAt = Date.now();
    await until("adapter reconnected by itself", () => (x.gw.gateway.health().xmpp?.ready ? true : undefined), 15_000);
    console.log(`[figure] XMPP link back ${Date.now() - restartedAt} ms after Prosody listened again`);
    grace = await connectUser("grace", { resource: "back" });
    frank = await connectUser("frank", { resource: "back" });
    // All five arrive (offline storage or live), once each, in the order they were accepted.
    const bodies = await until("all queued messages", () => {
      const b = grace.inbox.seen.filter((st) => st.is("message")).map((st) => st.getChildText("body") ?? "").filter((t) => t.startsWith("while down"));
      return b.length >= during.length ? b : undefined;
    }, 30_000);
    expect(bodies).toEqual(during.map((m) => plainText(m)));
  });
});
