/**
 * Issue 12: the MUC occupants Parley joined are kept in Redis (adapters/xmpp/muc/occupants.ts), so
 * a restarted process, or the next holder of the component link, does not join again: it checks
 * each occupant once with an XEP-0410 self-ping. When the XMPP server dropped the occupants (it
 * restarted), the self-ping says so and the puppet joins again. The MUC here is a small fake that
 * answers as Prosody 0.12's mod_muc does (self-presence with 110; a self-ping is a result for an
 * occupant and `not-acceptable` for anyone else); the state is the real Redis store.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { asNetworkId } from "../../../src/model/address.js";
import { deleteKeysUnder, keyspace, RedisAdapterStateStore } from "../../../src/store/index.js";
import { silentLogger } from "../../../src/log/logger.js";
import type { AdapterContext } from "../../../src/adapter/contract.js";
import { xml, type ComponentLink, type XmlElement } from "../../../adapters/xmpp/connection.js";
import type { XmppRuntime } from "../../../adapters/xmpp/stanza.js";
import { LISTENER_NICK, occupantsMap, Occupants } from "../../../adapters/xmpp/muc/occupants.js";
import { SHARED_REDIS, uniquePrefix } from "../delivery/helpers.js";

let ROOM = "";
let rooms = 0;
const PUPPET = "bob\\40matrix.localhost@matrix.gw.localhost";
const prefix = uniquePrefix("muc-occupants");
let redis: Redis;
beforeAll(() => { redis = new Redis(SHARED_REDIS); });
afterAll(async () => { await deleteKeysUnder(redis, prefix); redis.disconnect(); });
beforeEach(() => { ROOM = `team${++rooms}@conference.localhost`; });

/** A MUC service as the server keeps it: occupant JID → real JID; `restart()` forgets them all. */
class FakeMuc {
  readonly occupants = new Map<string, string>();
  readonly joins: string[] = [];
  readonly pings: string[] = [];
  readonly leaves: string[] = [];
  target: Occupants | undefined;
  restart(): void { this.occupants.clear(); }
  link(): ComponentLink {
    const send = async (el: XmlElement): Promise<number> => {
      if (el.name === "presence" && el.attrs.type !== "unavailable") {
        const occupant = el.attrs.to!;
        this.joins.push(occupant);
        for (const [o, real] of this.occupants) if (real === el.attrs.from && o.startsWith(`${ROOM}/`)) this.occupants.delete(o);
        this.occupants.set(occupant, el.attrs.from!);
        // The self-presence comes back on the link, after this send.
        setImmediate(() => this.target!.settle(xml("presence", { from: occupant, to: el.attrs.from! }, xml("x", { xmlns: "http://jabber.org/protocol/muc#user" }, xml("status", { code: "110" })))));
      } else if (el.name === "presence") {
        this.occupants.delete(el.attrs.to!);
        this.leaves.push(el.attrs.to!);
        setImmediate(() => this.target!.settle(xml("presence", { from: el.attrs.to!, to: el.attrs.from!, type: "unavailable" }, xml("x", { xmlns: "http://jabber.org/protocol/muc#user" }, xml("status", { code: "110" })))));
      }
      return 1;
    };
    const request = async (el: XmlElement): Promise<XmlElement> => {
      this.pings.push(el.attrs.to!);
      const joined = this.occupants.get(el.attrs.to!) === el.attrs.from;
      return joined
        ? xml("iq", { type: "result", id: el.attrs.id!, from: el.attrs.to!, to: el.attrs.from! })
        : xml("iq", { type: "error", id: el.attrs.id!, from: ROOM, to: el.attrs.from! }, xml("error", { type: "cancel" }, xml("not-acceptable", { xmlns: "urn:ietf:params:xml:ns:xmpp-stanzas" })));
    };
    return { send, request } as unknown as ComponentLink;
  }
}

/** One Parley process's occupants: its own memory, the shared Redis. */
function processOn(muc: FakeMuc): Occupants {
  const ctx = { state: new RedisAdapterStateStore(redis, keyspace(prefix), asNetworkId("xmpp")), mappings: () => ({}) } as unknown as AdapterContext;
  const rt = { ctx, link: muc.link(), config: { confirmTimeoutMs: 2_000 }, log: silentLogger(), domains: new Set(["gw.localhost"]) } as unknown as XmppRuntime;
  const o = new Occupants(rt);
  muc.target = o;
  return o;
}

describe("issue 12: MUC occupants in Redis", () => {
  it("a second process (or a restarted one) knows the occupants the first joined: one self-ping each, no second join", async () => {
    const muc = new FakeMuc();
    const first = processOn(muc);
    await first.linkUp([ROOM]);
    await first.ensure(ROOM, first.listenerJid(), LISTENER_NICK, "parley");
    await first.ensure(ROOM, PUPPET, "bob", "matrix");
    expect(muc.joins).toEqual([`${ROOM}/${LISTENER_NICK}`, `${ROOM}/bob`]);
    expect(await redis.hget(keyspace(prefix).key("state", "xmpp", occupantsMap(ROOM)), `p ${PUPPET}`)).toBe("bob\nbob");

    const second = processOn(muc);
    await second.linkUp([ROOM]);
    expect(second.isOwnNick(ROOM, "bob")).toBe(true); // its copies are not bridged, though this process never joined it
    expect(second.nickOf(ROOM, PUPPET)).toBe("bob");
    await second.ensure(ROOM, PUPPET, "bob", "matrix");
    await second.ensure(ROOM, PUPPET, "bob", "matrix");
    expect(muc.joins).toHaveLength(2);
    expect(muc.pings).toEqual([`${ROOM}/bob`]); // checked once per link session
  });

  it("after the XMPP server dropped its occupants, the self-ping says so and the puppet joins again; every reconnect checks again", async () => {
    const muc = new FakeMuc();
    const first = processOn(muc);
    await first.linkUp([ROOM]);
    await first.ensure(ROOM, PUPPET, "bob", "matrix");
    muc.restart();
    const restarted = processOn(muc);
    await restarted.linkUp([ROOM]);
    await restarted.ensure(ROOM, PUPPET, "bob", "matrix");
    expect(muc.joins).toEqual([`${ROOM}/bob`, `${ROOM}/bob`]);
    // The same process, link reconnected after the server restarted again.
    muc.restart();
    await restarted.linkUp([ROOM]);
    await restarted.ensure(ROOM, PUPPET, "bob", "matrix");
    expect(muc.joins).toHaveLength(3);
    expect(muc.occupants.get(`${ROOM}/bob`)).toBe(PUPPET);
  });

  it("a leave and a kick are forgotten in Redis: the next process joins again", async () => {
    const muc = new FakeMuc();
    const a = processOn(muc);
    await a.linkUp([ROOM]);
    await a.ensure(ROOM, PUPPET, "bob", "matrix");
    await a.leave(ROOM, PUPPET);
    const b = processOn(muc);
    await b.linkUp([ROOM]);
    expect(b.isOwnNick(ROOM, "bob")).toBe(false);
    await b.ensure(ROOM, PUPPET, "bob", "matrix");
    await b.removed(ROOM, PUPPET, { reason: "kicked", detail: "Parley was kicked from the room" });
    const c = processOn(muc);
    await c.linkUp([ROOM]);
    expect(c.nickOf(ROOM, PUPPET)).toBeUndefined();
    expect(muc.pings).toEqual([]);
  });

  it("a nick change is one join to the new nick, kept for the next process", async () => {
    const muc = new FakeMuc();
    const a = processOn(muc);
    await a.linkUp([ROOM]);
    await a.ensure(ROOM, PUPPET, "bob", "matrix");
    await a.ensure(ROOM, PUPPET, "robert", "matrix");
    const b = processOn(muc);
    await b.linkUp([ROOM]);
    expect(b.isOwnNick(ROOM, "robert")).toBe(true);
    expect(b.isOwnNick(ROOM, "bob")).toBe(false);
    await b.ensure(ROOM, PUPPET, "robert", "matrix");
    expect(muc.joins).toEqual([`${ROOM}/bob`, `${ROOM}/robert`]);
  });

  it("the listener, still in the room after a restart, leaves and joins again so the room sends it every occupant's real JID", async () => {
    const muc = new FakeMuc();
    const a = processOn(muc);
    await a.linkUp([ROOM]);
    await a.ensure(ROOM, a.listenerJid(), LISTENER_NICK, "parley", { roster: true });
    const b = processOn(muc);
    await b.linkUp([ROOM]);
    await b.ensure(ROOM, b.listenerJid(), LISTENER_NICK, "parley", { roster: true });
    expect(muc.leaves).toEqual([`${ROOM}/${LISTENER_NICK}`]);
    expect(muc.joins).toEqual([`${ROOM}/${LISTENER_NICK}`, `${ROOM}/${LISTENER_NICK}`]);
    expect(muc.occupants.get(`${ROOM}/${LISTENER_NICK}`)).toBe(b.listenerJid());
  });
});
