/**
 * Issue 10, the crash notice's reach (adapters/xmpp/recent-contacts.ts, crash-notice.ts) with real
 * Prosody, real `@xmpp/client` users and two real Parley processes. peggy's only message to a
 * Matrix contact is lost in the way XEP-0114 allows: the link holder A is frozen (SIGSTOP), Prosody
 * writes her stanza into A's socket, and A is killed (`kill -9`) without having read it — Prosody
 * reports nothing. Parley never saw peggy send anything; what it saw is that dan's puppet wrote to
 * her just before. The standby B takes the link and tells her, once, that messages sent in a window
 * containing hers may not have been delivered. mallory, online but never in contact with a puppet,
 * is told nothing.
 */
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { endpoint } from "../../../src/model/address.js";
import { MessageSchema } from "../../../src/model/message.js";
import { newCanonicalId } from "../../../src/model/ids.js";
import { deleteKeysUnder } from "../../../src/store/index.js";
import { testPrefix } from "../../support/gateway.js";
import { until } from "../../support/until.js";
import { parseNoticeWindow } from "../../chaos/ledger.js";
import { prosody, xml, type Stanza, type TestUser } from "./support.js";
import { connectXmppUser } from "../../harness/prosody/client.js";
import { registerUser } from "../../harness/prosody/prosody.js";
import { startProc, type Proc } from "./processes.js";

const DAN = "dan@matrix.test";
const isNotice = (s: Stanza) => s.is("message") && s.attrs.from === "matrix.test" && /stopped unexpectedly/.test(s.getChildText("body") ?? "");

/**
 * A user of this file only: the run's shared users may have puppets in their rosters from other
 * files, and coming online to a puppet makes a user a recent contact (told, by design).
 */
async function freshUser(name: string): Promise<TestUser> {
  const c = prosody();
  const user = `${name}-${randomBytes(3).toString("hex")}`;
  const password = randomBytes(8).toString("hex");
  registerUser(c.configPath, user, c.userDomain, password);
  return connectXmppUser({ ...c, users: { ...c.users, [user]: password } }, user, { resource: "crash" });
}

describe("crash notice to a user whose only message was lost in a kill -9 (issue 10)", () => {
  const prefix = testPrefix("xmpp-crash-notice");
  let a: Proc;
  let b: Proc;
  let peggy: TestUser;
  let mallory: TestUser;
  const health = async (p: Proc) => (await p.call({ cmd: "health" })) as { ready: boolean; owner: boolean };

  beforeAll(async () => {
    a = await startProc(prefix);
    await until("A holds the link", async () => ((await health(a)).ready ? true : undefined), 15_000);
    b = await startProc(prefix);
    peggy = await freshUser("peggy");
    mallory = await freshUser("mallory");
  }, 60_000);
  afterAll(async () => {
    await peggy?.stop();
    await mallory?.stop();
    for (const p of [a, b]) if (p?.child.exitCode === null && p.child.signalCode === null) await p.call({ cmd: "stop" }).catch(() => p.child.kill("SIGKILL"));
    const redis = new Redis("redis://127.0.0.1:6379");
    try { await deleteKeysUnder(redis, prefix); } finally { redis.disconnect(); }
  });

  const fromDan = (to: TestUser, text: string) => ({
    kind: "message",
    message: MessageSchema.parse({
      id: newCanonicalId(), from: endpoint(DAN, "matrix"), to: endpoint(to.bare, "xmpp"),
      authenticatedBy: { method: "network" }, sentAt: new Date().toISOString(), kind: "chat", parts: [{ role: "text", body: text }],
    }),
  });

  it("peggy, to whom a puppet just wrote, is told; mallory is not", async () => {
    expect((await health(a)).owner).toBe(true);
    // dan (Matrix) writes to peggy through A: the only thing Parley knows of her.
    await a.call({ cmd: "accept", events: [fromDan(peggy, "are you there?")] });
    await peggy.inbox.next((s) => s.is("message") && s.attrs.from === DAN && s.getChildText("body") === "are you there?", 20_000, "dan's message");

    // A freezes; peggy answers. Her server's reply to a ping sent after the message says Prosody
    // has routed it — into A's socket, which A never reads again.
    process.kill(a.child.pid!, "SIGSTOP");
    const sentAt = Date.now();
    await peggy.send(xml("message", { type: "chat", to: DAN, id: "peggy-only" }, xml("body", {}, "yes, here")));
    await peggy.xmpp.iqCaller.request(xml("iq", { type: "get", to: prosody().userDomain }, xml("ping", { xmlns: "urn:xmpp:ping" })), 10_000);
    a.child.kill("SIGKILL");
    await until("B holds the link", async () => ((await health(b)).ready ? true : undefined), 20_000);

    const notice = await peggy.inbox.next(isNotice, 20_000, "the crash notice");
    const w = parseNoticeWindow(notice.getChildText("body") ?? "");
    expect(w).toBeDefined();
    expect(w!.fromMs).toBeLessThanOrEqual(sentAt);
    expect(w!.toMs).toBeGreaterThanOrEqual(sentAt);
    expect(notice.attrs.type).toBe("chat");

    // Deliveries after the notices (B wrote them first, on the same stream): mallory got none, peggy one.
    await b.call({ cmd: "accept", events: [fromDan(mallory, "after the crash"), fromDan(peggy, "after the crash")] });
    await mallory.inbox.next((s) => s.is("message") && s.getChildText("body") === "after the crash", 20_000, "dan's later message to mallory");
    await peggy.inbox.next((s) => s.is("message") && s.getChildText("body") === "after the crash", 20_000, "dan's later message to peggy");
    expect(mallory.inbox.seen.filter(isNotice)).toEqual([]);
    expect(peggy.inbox.seen.filter(isNotice)).toEqual([]); // once
  }, 90_000);
});
