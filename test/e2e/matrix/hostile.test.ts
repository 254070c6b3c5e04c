/**
 * The hostile Matrix corpus (test/fixtures/matrix/hostile/corpus.json; issue 11 classes 2, 5–9):
 * each entry is sent to the application-service listener of an adapter connected to the tier's
 * real Synapse, as a homeserver (or someone holding or guessing its token) would. The table gives
 * the expected HTTP answer, what reaches the core, what is skipped (always with a log line) and
 * the notice the Matrix sender sees.
 */
import { connect, type Socket } from "node:net";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { endpoint } from "../../../src/model/address.js";
import { newCanonicalId } from "../../../src/model/ids.js";
import { MessageSchema } from "../../../src/model/message.js";
import { toNative } from "../../../adapters/matrix/address.js";
import { startUser, uniqueName, type TestMatrixUser } from "../../harness/synapse/clients.js";
import { LogCapture } from "../xmpp/support.js";
import { startRig, type Rig } from "./rig.js";

interface Entry {
  name: string; class: number; what: string; body?: string;
  request?: { mode: "declared" | "trickle" | "slow-headers" | "connections" | "auth"; bytes?: number; seconds?: number; count?: number; auth?: string };
  expect: { status: number; accepted?: Record<string, number>; skipped?: number; notice?: string; html?: boolean; withinMs?: number; maxOpen?: number };
}

const corpus = JSON.parse(readFileSync(new URL("../../fixtures/matrix/hostile/corpus.json", import.meta.url), "utf8")) as Entry[];
const logs = new LogCapture();
let rig: Rig;
let alice: TestMatrixUser;
let room: string;
let puppet: string;
const run = Date.now().toString(36);

function render(e: Entry): string {
  const eid = (k: string) => `$${e.name}-${run}-${k}`;
  const msg = (k: string, text: string) => JSON.stringify({ type: "m.room.message", room_id: room, sender: alice.userId, event_id: eid(k), origin_server_ts: Date.now(), content: { msgtype: "m.text", body: text } });
  return (e.body ?? "{\"events\":[]}").replace(/\{\{(\w+)(?::([^:}]*))?(?::([^}]*))?\}\}/g, (_, k: string, a = "", b = "") => {
    switch (k) {
      case "ROOM": return room;
      case "SENDER": return alice.userId;
      case "NOW": return String(Date.now());
      case "EID": return eid(a);
      case "MSG": return msg(a, b);
      case "MSGS": return Array.from({ length: Number(a) }, (_x, i) => msg(`${a}-${i}`, `bulk ${i} ${"x".repeat(Number(b))}`)).join(",");
      case "NEST": return "[".repeat(Number(a)) + "]".repeat(Number(a));
      case "PAD": return "x".repeat(Number(a));
      default: throw new Error(`unknown placeholder ${k}`);
    }
  });
}

const url = (txn: string, query = "") => `http://127.0.0.1:${rig.slot.port}/_matrix/app/v1/transactions/${txn}${query}`;

async function put(e: Entry): Promise<number> {
  const t = rig.slot.hsToken;
  const auth = e.request?.auth ?? "bearer";
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (auth.startsWith("bearer")) headers.authorization = `Bearer ${auth.startsWith("bearer-wrong") ? "w".repeat(t.length) : t}`;
  const query = { "bearer+query-wrong": `?access_token=${"w".repeat(t.length)}`, "bearer-wrong+query": `?access_token=${t}`, "query-twice": `?access_token=${t}&access_token=wrong`, "bearer+query": `?access_token=${t}` }[auth] ?? "";
  const res = await fetch(url(`${e.name}-${run}`, query), { method: "PUT", headers, body: render(e) });
  return res.status;
}

/** A raw request: the status line the server answers with, and how long it took. */
function raw(head: string, feed?: (s: Socket) => void): Promise<{ status: number; ms: number }> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const s = connect(rig.slot.port, "127.0.0.1", () => { s.write(head); feed?.(s); });
    let got = "";
    s.on("data", (c) => { got += c.toString(); });
    s.on("error", () => undefined);
    s.on("close", () => {
      const m = /^HTTP\/1\.1 (\d{3})/.exec(got);
      if (m) resolve({ status: Number(m[1]), ms: Date.now() - t0 });
      else reject(new Error(`closed without an answer after ${Date.now() - t0} ms`));
    });
  });
}

async function httpCase(e: Entry): Promise<void> {
  const r = e.request!;
  const path = `/_matrix/app/v1/transactions/${e.name}-${run}`;
  const auth = `Authorization: Bearer ${rig.slot.hsToken}\r\n`;
  if (r.mode === "declared") {
    const res = await raw(`PUT ${path} HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: ${r.bytes}\r\n\r\n{`);
    expect(res.status).toBe(e.expect.status);
    expect(res.ms).toBeLessThan(e.expect.withinMs!);
  } else if (r.mode === "trickle" || r.mode === "slow-headers") {
    let timer: NodeJS.Timeout | undefined;
    const head = r.mode === "trickle" ? `PUT ${path} HTTP/1.1\r\nHost: x\r\n${auth}Content-Length: ${r.seconds}\r\n\r\n` : `PUT ${path} HTTP/1.1\r\nHost: x\r\n`;
    const res = await raw(head, (s) => { timer = setInterval(() => s.write(r.mode === "trickle" ? "x" : "X-Slow: 1\r\n"), 1000); }).finally(() => clearInterval(timer));
    expect(res.status).toBe(e.expect.status);
    expect(res.ms).toBeLessThan(e.expect.withinMs!);
  } else if (r.mode === "connections") {
    const sockets = await Promise.all(Array.from({ length: r.count! }, () => new Promise<Socket>((resolve) => {
      const s = connect(rig.slot.port, "127.0.0.1", () => resolve(s));
      s.on("error", () => undefined);
    })));
    // Wait on state: the server closes the excess ones as they arrive.
    const deadline = Date.now() + 5000;
    const open = () => sockets.filter((s) => !s.closed && !s.readableEnded).length;
    while (open() > e.expect.maxOpen! && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
    expect(open()).toBeLessThanOrEqual(e.expect.maxOpen!);
    for (const s of sockets) s.destroy();
    const deadline2 = Date.now() + 5000;
    let status = 0;
    while (status !== e.expect.status && Date.now() < deadline2) status = await put({ ...e, body: "{\"events\":[]}" }).catch(() => 0);
    expect(status).toBe(e.expect.status);
  }
}

beforeAll(async () => {
  rig = await startRig(7, { log: logs.logger });
  alice = await startUser(rig.coords.baseUrl, rig.coords.registrationSharedSecret, uniqueName("hostile"));
  const aliceEp = endpoint(`${alice.userId.slice(1, alice.userId.indexOf(":"))}@${rig.coords.serverName}`, "matrix");
  const xmppBob = endpoint("bob@chat.example.org", "xmpp");
  puppet = toNative(xmppBob, rig.mappings);
  await rig.adapter.deliverMessage(MessageSchema.parse({ id: newCanonicalId(), from: xmppBob, to: aliceEp, authenticatedBy: { method: "network" }, sentAt: new Date().toISOString(), parts: [{ role: "text", body: "open the room" }] }));
  room = (await alice.waitForMessage("open the room", puppet)).getRoomId()!;
  await alice.waitForEvent((e) => e.getRoomId() === room && e.getStateKey() === alice.userId && e.getContent().membership === "join");
}, 120_000);
afterAll(async () => {
  alice?.stop();
  await rig?.stop();
});

describe("T-2.5.1 T-5.4.2 hostile Matrix corpus against the application-service listener", () => {
  it("holds at least three cases for each of classes 2, 5, 6, 7, 8 and 9", () => {
    for (const c of [2, 5, 6, 7, 8, 9]) expect(corpus.filter((e) => e.class === c).length, `class ${c}`).toBeGreaterThanOrEqual(3);
  });

  for (const e of corpus) {
    it(`class ${e.class} ${e.name}: ${e.what} → ${e.expect.status}`, async () => {
      if (e.request && e.request.mode !== "auth") return httpCase(e);
      const before = rig.ctx.accepted.length;
      const logBefore = logs.lines.length;
      expect(await put(e)).toBe(e.expect.status);
      const fresh = rig.ctx.accepted.slice(before);
      // Messages of this entry exactly (its event ids carry its name); presence at least as many
      // (the live Synapse may push the user's own presence at any time).
      const mine = fresh.filter((x) => x.kind !== "message" || x.message.nativeIds.some((n) => n.id.includes(e.name)));
      const kinds: Record<string, number> = {};
      for (const ev of mine) kinds[ev.kind] = (kinds[ev.kind] ?? 0) + 1;
      if (e.expect.accepted) {
        expect(kinds.message ?? 0).toBe(e.expect.accepted.message ?? 0);
        expect(kinds.presence ?? 0).toBeGreaterThanOrEqual(e.expect.accepted.presence ?? 0);
      }
      const skipped = logs.lines.slice(logBefore).filter((l) => l.event === "matrix-event-skipped").length;
      expect(skipped).toBe(e.expect.skipped ?? 0);
      if (e.expect.html !== undefined) {
        const m = fresh.find((x) => x.kind === "message");
        expect(m?.kind === "message" && m.message.parts.some((p) => p.role === "html")).toBe(e.expect.html);
      }
      if (e.expect.notice) {
        const n = await alice.waitForEvent((x) => x.getRoomId() === room && x.getSender() === puppet && x.getContent().msgtype === "m.notice" && String(x.getContent().body).includes(e.expect.notice!) && JSON.stringify(x.getContent()).includes(e.name), 30_000, `notice for ${e.name}`);
        expect(String(n.getContent().body)).toMatch(/^⚠ Not delivered/);
      }
    });
  }
});
