/**
 * The chaos test's own deployment (it kills and freezes its peers, so it shares none): a Redis
 * with AOF `appendfsync always`, a private Prosody, Synapse and Postfix from the test harness, two
 * Parley configs (process A and a standby B) behind one application-service balancer, and real
 * clients — alice on XMPP, bob on Matrix, carol's Maildir — feeding the {@link Ledger}.
 */
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { Method } from "matrix-js-sdk";
import { writeRegistration } from "../../adapters/matrix/index.js";
import { xmppAdapter } from "../../adapters/xmpp/index.js";
import { matrixAdapter } from "../../adapters/matrix/index.js";
import { endpoint } from "../../src/model/address.js";
import { DEMO, demoConfigYaml, demoMappingsYaml } from "../../scripts/demo/files.js";
import { demoMappings } from "../../scripts/demo/deployment.js";
import { prepareProsody, startProsody, stopProsody, removeProsodyDir, freePort, type ProsodyCoordinates } from "../harness/prosody/prosody.js";
import { connectXmppUser, xml, type Stanza, type XmppTestUser } from "../harness/prosody/client.js";
import { startSynapse, type SynapseInstance } from "../harness/synapse/synapse.js";
import { startUser, uniqueName, type TestMatrixUser } from "../harness/synapse/clients.js";
import { configureMta, ensurePostfix, removeMta, startMta, stopMta, type MtaCoordinates } from "../harness/mta/postfix.js";
import { readMaildir } from "../harness/mta/maildir.js";
import { RedisServer } from "../support/redis-server.js";
import { Ledger, parseNoticeWindow, type Direction } from "./ledger.js";
import { startBalancer, startParley, type Balancer, type ParleyProcess } from "./processes.js";
import { buildParley } from "./build.js";

interface ProcessPorts { readonly admin: number; readonly appservice: number; readonly smtp: number }

export interface ChaosRig {
  readonly dir: string;
  readonly redis: RedisServer;
  readonly prosody: ProsodyCoordinates;
  readonly synapse: SynapseInstance;
  readonly mta: MtaCoordinates;
  readonly ledger: Ledger;
  readonly procs: Map<string, ParleyProcess>;
  /** The ledger's clients, and bob's JID on XMPP (for benches that add conversations of their own). */
  readonly alice: XmppTestUser;
  readonly bob: TestMatrixUser;
  readonly bobJid: string;
  /** In front of the processes' application-service ports: `hold()` keeps Synapse's transactions unanswered (they queue up in Synapse). */
  readonly balancer: Balancer;
  /** Start (or restart) process `a` or `b`. */
  start(name: "a" | "b"): Promise<ParleyProcess>;
  /** Read bob's room history for messages a gappy sync did not show live (Synapse restarts). */
  backfill(): Promise<void>;
  /** bob's own messages in the room's order (the homeserver's, oldest first): the order Matrix → XMPP must keep. */
  roomOrder(): Promise<string[]>;
  /** Send one message in `direction`, tagged `text`; resolves once the source network took it (never rejects). */
  send(direction: Direction, text: string): Promise<void>;
  prosodyPid(): number;
  stop(): Promise<void>;
}

const TOKEN = /c:[a-z0-9-]+:[a-z0-9]+:\d+/g;

/** Parley's config for one process: the demo's, with its own ports and patient retries. */
function processConfig(base: string, ports: ProcessPorts): string {
  type Section = Record<string, unknown>;
  const c = parse(base) as { admin: Section; delivery: Section; log: Section; limits?: Section; adapters: { matrix: Section; email: Section } };
  c.admin = { ...c.admin, port: ports.admin };
  c.limits = { enabled: false }; // a steady stream from one sender (20/s from alice) is the load, not abuse
  // CHAOS_CONCURRENCY: the delivery concurrency (8, the default); bench:e2e compares it.
  c.delivery = { attempts: 25, backoffBaseMs: 200, backoffCapMs: 3_000, concurrency: Number(process.env.CHAOS_CONCURRENCY ?? 8) };
  c.log = { level: process.env.CHAOS_LOG_LEVEL ?? "info" }; // CHAOS_LOG_LEVEL=debug: one line per message accepted and delivered
  c.adapters.matrix = { ...c.adapters.matrix, listen: { host: "127.0.0.1", port: ports.appservice } };
  c.adapters.email = { ...c.adapters.email, listen: { host: "127.0.0.1", port: ports.smtp } };
  return stringify(c);
}

/** `xmppUsers`: more Prosody users than alice (registered before start). */
export async function startChaosRig(opts: { xmppUsers?: readonly string[] } = {}): Promise<ChaosRig> {
  const dir = mkdtempSync(join(tmpdir(), "parley-chaos-"));
  const ledger = new Ledger();
  const stops: Array<() => Promise<void> | void> = [];
  const stopAll = async () => { for (const s of stops.reverse()) await Promise.resolve(s()).catch(() => undefined); };
  try {
    const build = await buildParley();
    stops.push(() => build.remove());
    console.log(`[chaos] parley compiled in ${build.buildMs} ms`);
    const redis = await RedisServer.start({ appendonly: true, extraArgs: ["--maxmemory-policy", "noeviction"] });
    stops.push(() => redis.destroy());
    const prosody = await prepareProsody({ userDomain: DEMO.xmppDomain, componentDomains: DEMO.componentDomains, users: ["alice", ...(opts.xmppUsers ?? [])] });
    await startProsody(prosody);
    stops.push(async () => { await stopProsody(prosody, "SIGKILL"); removeProsodyDir(prosody); });
    await ensurePostfix();
    const mta = await configureMta({ catchAllDomains: [DEMO.mailDomain], bounceDomains: [`nobody.${DEMO.mailDomain}`], relayDomains: DEMO.relayDomains });
    await startMta(mta);
    stops.push(async () => { await stopMta(mta); removeMta(mta); });

    const mappings = demoMappings();
    const asPort = await freePort();
    const registration = writeRegistration({ id: DEMO.appserviceId, url: `http://127.0.0.1:${asPort}`, mappings });
    const synapse = await startSynapse({ serverName: DEMO.matrixServer, appserviceRegistrations: [registration.yaml] });
    // CHAOS_KEEP=1 keeps Synapse's directory too (homeserver.log: its application-service sender).
    stops.push(async () => {
      const keep = process.env.CHAOS_KEEP === "1";
      await synapse.stop({ cleanup: !keep });
      if (keep) console.log(`[chaos] synapse kept in ${synapse.dataDir}`);
    });

    writeFileSync(join(dir, "mappings.yaml"), demoMappingsYaml());
    writeFileSync(join(dir, "admin-token"), "chaos-admin-token\n", { mode: 0o600 });
    const base = demoConfigYaml({
      redisUrl: redis.url, keyPrefix: "parley-chaos:", adminPort: 0, adminTokenFile: join(dir, "admin-token"),
      xmpp: { host: prosody.host, port: prosody.componentPort, componentSecret: prosody.componentSecret },
      matrix: { homeserverUrl: synapse.baseUrl, asToken: registration.asToken, hsToken: registration.hsToken, registrationFile: join(synapse.dataDir, "appservice-0.yaml"), port: 0 },
      email: { listenPort: 0, relayPort: mta.smtpPort, blobDir: join(dir, "blobs") },
    });
    const ports: Record<"a" | "b", ProcessPorts> = {
      a: { admin: await freePort(), appservice: await freePort(), smtp: mta.parleyPort },
      b: { admin: await freePort(), appservice: await freePort(), smtp: await freePort() },
    };
    for (const n of ["a", "b"] as const) writeFileSync(join(dir, `parley-${n}.yaml`), processConfig(base, ports[n]));
    const procs = new Map<string, ParleyProcess>();
    const balancer = await startBalancer(asPort, () => [ports.a.appservice, ports.b.appservice]);
    stops.push(() => new Promise<void>((r) => balancer.close(() => r())));
    stops.push(() => { for (const p of procs.values()) if (p.running) p.child.kill("SIGKILL"); });
    const start = async (name: "a" | "b") => {
      const p = await startParley(name, build.entry, join(dir, `parley-${name}.yaml`), ports[name].admin, join(dir, `parley-${name}.log`));
      procs.set(name, p);
      return p;
    };
    await start("a");

    const alice = await connectXmppUser(prosody, "alice", { resource: "chaos" });
    stops.push(() => alice.stop());
    const bob = await startUser(synapse.baseUrl, synapse.registrationSharedSecret, uniqueName("bob"));
    stops.push(() => bob.stop());
    const bobEp = endpoint(`${bob.userId.slice(1, bob.userId.indexOf(":"))}@${DEMO.matrixServer}`, "matrix");
    const bobJid = xmppAdapter.addressing.toNative(bobEp, mappings);
    const carolJid = xmppAdapter.addressing.toNative(endpoint(`carol@${DEMO.mailDomain}`, "email"), mappings);
    const alicePuppet = matrixAdapter.addressing.toNative(endpoint(alice.bare, "xmpp"), mappings);

    // The conversation's DM room appears with alice's first message to bob.
    await alice.send(xml("message", { type: "chat", to: bobJid, id: "hello" }, xml("body", {}, "hello bob")));
    const first = await bob.waitForMessage("hello bob", alicePuppet, 60_000);
    const room = first.getRoomId()!;
    await bob.waitForEvent((e) => e.getRoomId() === room && e.getStateKey() === bob.userId && e.getContent().membership === "join", 30_000, "bob joined");
    const backfill = observe(alice, bob, { bobJid, alicePuppet, room }, ledger);
    const mailbox = mta.maildirs[DEMO.mailDomain]!;
    const scan = setInterval(() => scanMaildir(mailbox, ledger), 500);
    stops.push(() => clearInterval(scan));

    const send = async (direction: Direction, text: string): Promise<void> => {
      if (direction === "m2x") {
        ledger.sent(text, direction, false);
        await bob.say(room, { msgtype: "m.text", body: text }).then((eventId) => { ledger.ack(text); eventTexts.set(eventId, text); }, () => undefined);
      } else {
        ledger.sent(text, direction, true); // XMPP has no ack: a bounce later counts as a report
        await alice.send(xml("message", { type: "chat", to: direction === "x2m" ? bobJid : carolJid, id: text }, xml("body", {}, text))).catch(() => undefined);
      }
    };
    return {
      dir, redis, prosody, synapse, mta, ledger, procs, balancer, alice, bob, bobJid, start, send, backfill,
      roomOrder: () => bodiesInRoomOrder(bob, room),
      prosodyPid: () => Number(readFileSync(prosody.pidFile, "utf8").trim()),
      async stop() {
        await stopAll();
        // CHAOS_KEEP=1 keeps the processes' logs and configs for a post-mortem.
        if (process.env.CHAOS_KEEP === "1") console.log(`[chaos] logs kept in ${dir}`);
        else rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}

/** Matrix event id → the ledger text it carried (for notices that answer it). */
const eventTexts = new Map<string, string>();

interface RoomEventLike { readonly id: string | undefined; readonly type: string; readonly sender: string | undefined; readonly content: Record<string, unknown>; readonly at?: number }

/** Count what bob sees live; returns a backfill that reads the room's history for what a gappy sync skipped. */
function observe(alice: XmppTestUser, bob: TestMatrixUser, who: { bobJid: string; alicePuppet: string; room: string }, ledger: Ledger): () => Promise<void> {
  alice.xmpp.on("stanza", (s: Stanza) => {
    if (!s.is("message")) return;
    if (s.attrs.type === "error") { if (s.attrs.id) ledger.reported(s.attrs.id); return; }
    const body = s.getChildText("body") ?? "";
    // A crash notice from a component domain (adapters/xmpp/crash-notice.ts): a window, not a message.
    if (!String(s.attrs.from ?? "").includes("@")) {
      const w = parseNoticeWindow(body);
      if (w) { ledger.notice(w.fromMs, w.toMs); console.log(`[chaos] crash notice to alice: ${body}`); }
      return;
    }
    if (String(s.attrs.from).split("/")[0] === who.bobJid) for (const t of body.match(TOKEN) ?? []) ledger.seen(t, Date.now(), String(s.attrs.id ?? ""));
  });
  const seenEvents = new Set<string>();
  const onEvent = (e: RoomEventLike) => {
    const id = e.id;
    if (!id || seenEvents.has(id) || e.type !== "m.room.message" || e.sender !== who.alicePuppet) return;
    seenEvents.add(id);
    const content = e.content;
    const body = typeof content.body === "string" ? content.body : "";
    if (content.msgtype === "m.notice") {
      const replyTo = (content["m.relates_to"] as { "m.in_reply_to"?: { event_id?: string } } | undefined)?.["m.in_reply_to"]?.event_id;
      const t = replyTo ? eventTexts.get(replyTo) : undefined;
      if (t) ledger.reported(t);
      return;
    }
    for (const t of body.match(TOKEN) ?? []) ledger.seen(t, e.at);
  };
  bob.client.on("Room.timeline" as never, ((e: { getId(): string | undefined; getSender(): string | undefined; getType(): string; getContent(): Record<string, unknown> }) =>
    onEvent({ id: e.getId(), type: e.getType(), sender: e.getSender(), content: e.getContent() })) as never);
  // A sync after an outage can be "limited" (a gap): the client never sees the events in it live.
  // The room's history (GET /messages, newest first) is what bob would scroll back to.
  return async () => {
    let from: string | undefined;
    for (let page = 0; page < 50; page++) {
      const q: Record<string, string> = { dir: "b", limit: "500", ...(from ? { from } : {}) };
      const res = await bob.client.http.authedRequest<{ chunk: Array<{ event_id: string; type: string; sender: string; content: Record<string, unknown>; origin_server_ts: number }>; end?: string }>(Method.Get, `/rooms/${encodeURIComponent(who.room)}/messages`, q);
      for (const e of res.chunk) onEvent({ id: e.event_id, type: e.type, sender: e.sender, content: e.content, at: e.origin_server_ts });
      if (!res.end || res.chunk.length === 0) return;
      from = res.end;
    }
  };
}

/** The bodies `sender` wrote in `room`, in the room's (stream) order, oldest first: GET /messages backwards, reversed. */
async function bodiesInRoomOrder(bob: TestMatrixUser, room: string): Promise<string[]> {
  const newestFirst: string[] = [];
  let from: string | undefined;
  for (let page = 0; page < 50; page++) {
    const q: Record<string, string> = { dir: "b", limit: "500", ...(from ? { from } : {}) };
    const res = await bob.client.http.authedRequest<{ chunk: Array<{ type: string; sender: string; content: Record<string, unknown> }>; end?: string }>(Method.Get, `/rooms/${encodeURIComponent(room)}/messages`, q);
    for (const e of res.chunk) if (e.type === "m.room.message" && e.sender === bob.userId && typeof e.content.body === "string") newestFirst.push(e.content.body);
    if (!res.end || res.chunk.length === 0) break;
    from = res.end;
  }
  return newestFirst.reverse();
}

function scanMaildir(dir: string, ledger: Ledger): void {
  const copies = new Map<string, string[]>();
  for (const m of readMaildir(dir)) {
    // The token of the mail's own text: the first in its body (a reply may quote earlier ones).
    const raw = m.raw.toString("latin1");
    const headerEnd = raw.search(/\r?\n\r?\n/);
    const t = raw.slice(headerEnd).match(TOKEN)?.[0];
    const messageId = raw.slice(0, headerEnd).match(/^message-id:\s*(\S+)/im)?.[1] ?? "";
    if (t) copies.set(t, [...(copies.get(t) ?? []), messageId]);
  }
  for (const [t, ids] of copies) ledger.setCopies(t, ids);
}
