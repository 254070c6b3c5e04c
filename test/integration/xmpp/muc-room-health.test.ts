/**
 * Issue 12: a bridged MUC room that refuses or removes Parley (join refused, a kick or ban of a
 * puppet or of the listener, the room destroyed, XEP-0045 §§7.2, 8.2, 9.1, 10.9) is marked
 * unhealthy with a reason from a fixed set (LinkHealth.rooms, counted once per transition), and
 * a later successful join clears it; a puppet's own leave does not mark it. A join into a
 * destroyed room that would create a new one (status 201) is left again and fails for good. The
 * MUC is a small scripted fake answering as Prosody's mod_muc does; the state is the real Redis store.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { asNetworkId } from "../../../src/model/address.js";
import { deleteKeysUnder, keyspace, RedisAdapterStateStore } from "../../../src/store/index.js";
import { silentLogger } from "../../../src/log/logger.js";
import { DeliveryError, type AdapterContext, type RoomLinkFailure } from "../../../src/adapter/contract.js";
import { xml, type ComponentLink, type XmlElement } from "../../../adapters/xmpp/connection.js";
import type { XmppRuntime } from "../../../adapters/xmpp/stanza.js";
import { LISTENER_NICK, NS_MUC_USER, occupantsMap, Occupants } from "../../../adapters/xmpp/muc/occupants.js";
import { handleMucStanza } from "../../../adapters/xmpp/muc/inbound.js";
import { SHARED_REDIS, uniquePrefix } from "../delivery/helpers.js";

let ROOM = "";
let rooms = 0;
const PUPPET = "bob\\40matrix.localhost@matrix.gw.localhost";
const prefix = uniquePrefix("muc-room-health");
let redis: Redis;
beforeAll(() => { redis = new Redis(SHARED_REDIS); });
afterAll(async () => { await deleteKeysUnder(redis, prefix); redis.disconnect(); });
beforeEach(() => { ROOM = `health${++rooms}@conference.localhost`; });

type Answer = "ok" | "created" | "registration-required" | "forbidden" | "conflict";

const status = (...codes: string[]): XmlElement => xml("x", { xmlns: NS_MUC_USER }, ...codes.map((code) => xml("status", { code })));

/** A MUC that answers each join as told (`answer`), and records what Parley sent. */
class ScriptedMuc {
  answer: Answer = "ok";
  readonly joins: string[] = [];
  readonly leaves: string[] = [];
  target!: Occupants;
  link(): ComponentLink {
    const send = async (el: XmlElement): Promise<number> => {
      if (el.name !== "presence") return 1;
      const occupant = el.attrs.to!;
      const from = el.attrs.from!;
      if (el.attrs.type === "unavailable") { this.leaves.push(occupant); return 1; }
      this.joins.push(occupant);
      const answer = this.answer;
      setImmediate(() => {
        if (answer === "ok" || answer === "created") this.target.settle(xml("presence", { from: occupant, to: from }, answer === "created" ? status("110", "201") : status("110")));
        else this.target.settle(xml("presence", { from: occupant, to: from, type: "error" }, xml("error", { type: "cancel" }, xml(answer, { xmlns: "urn:ietf:params:xml:ns:xmpp-stanzas" }))));
      });
      return 1;
    };
    const request = async (el: XmlElement): Promise<XmlElement> => xml("iq", { type: "result", id: el.attrs.id!, from: el.attrs.to!, to: el.attrs.from! });
    return { send, request } as unknown as ComponentLink;
  }
}

function setup(muc: ScriptedMuc): { o: Occupants; rt: XmppRuntime; counted: RoomLinkFailure[] } {
  const counted: RoomLinkFailure[] = [];
  const ctx = {
    state: new RedisAdapterStateStore(redis, keyspace(prefix), asNetworkId("xmpp")), mappings: () => ({}),
    roomLinkFailed: (r: RoomLinkFailure) => counted.push(r),
  } as unknown as AdapterContext;
  const rt = { ctx, link: muc.link(), config: { confirmTimeoutMs: 2_000 }, log: silentLogger(), domains: new Set(["gw.localhost"]) } as unknown as XmppRuntime;
  const o = new Occupants(rt);
  o.open.add(ROOM);
  muc.target = o;
  return { o, rt, counted };
}

/** The room's unavailable self-presence to one of Parley's occupants, with `children` in its muc#user x. */
function gone(to: string, nick: string, ...children: XmlElement[]): XmlElement {
  return xml("presence", { from: `${ROOM}/${nick}`, to, type: "unavailable" }, xml("x", { xmlns: NS_MUC_USER }, xml("item", { affiliation: "none", role: "none" }), ...children));
}

describe("issue 12: a bridged MUC room refusing or removing Parley is marked unhealthy", () => {
  it("a refused join (members-only) marks the room, the sender's delivery fails for good, a later join clears it", async () => {
    const muc = new ScriptedMuc();
    const { o, counted } = setup(muc);
    muc.answer = "registration-required";
    const err = await o.ensure(ROOM, PUPPET, "bob", "matrix").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeliveryError);
    expect((err as DeliveryError).failureClass).toBe("permanent");
    expect(o.unhealthy()).toEqual([{ room: ROOM, reason: "members-only", detail: "the room is members-only" }]);
    expect(counted).toEqual(["members-only"]);
    await o.ensure(ROOM, PUPPET, "bob", "matrix").catch(() => undefined);
    expect(counted).toEqual(["members-only"]); // counted once per transition, not per attempt
    muc.answer = "ok";
    await o.ensure(ROOM, PUPPET, "bob", "matrix");
    expect(o.unhealthy()).toEqual([]);
  });

  it("a puppet kicked (307) or banned (301) marks the room and is forgotten; its own leave (110 only) does not", async () => {
    const muc = new ScriptedMuc();
    const { o, rt, counted } = setup(muc);
    await o.ensure(ROOM, PUPPET, "bob", "matrix");
    await handleMucStanza(rt, o, gone(PUPPET, "bob", xml("status", { code: "110" })));
    expect(o.unhealthy()).toEqual([]);
    expect(o.nickOf(ROOM, PUPPET)).toBeUndefined();
    await o.ensure(ROOM, PUPPET, "bob", "matrix");
    await handleMucStanza(rt, o, gone(PUPPET, "bob", xml("status", { code: "307" }), xml("status", { code: "110" })));
    expect(o.unhealthy()).toEqual([{ room: ROOM, reason: "kicked", detail: "Parley was kicked from the room" }]);
    expect(o.nickOf(ROOM, PUPPET)).toBeUndefined();
    await o.ensure(ROOM, PUPPET, "bob", "matrix"); // a kick is not a ban: the next message joins again
    expect(o.unhealthy()).toEqual([]);
    await handleMucStanza(rt, o, gone(PUPPET, "bob", xml("status", { code: "301" }), xml("status", { code: "110" })));
    expect(o.problemOf(ROOM)?.reason).toBe("banned");
    muc.answer = "forbidden";
    await expect(o.ensure(ROOM, PUPPET, "bob", "matrix")).rejects.toThrow("banned");
    expect(counted).toEqual(["kicked", "banned"]);
  });

  it("the listener kicked: a puppet's join does not clear it, the listener's own join does", async () => {
    const muc = new ScriptedMuc();
    const { o, rt } = setup(muc);
    await o.ensure(ROOM, o.listenerJid(), LISTENER_NICK, "parley");
    await handleMucStanza(rt, o, gone(o.listenerJid(), LISTENER_NICK, xml("status", { code: "307" }), xml("status", { code: "110" })));
    expect(o.problemOf(ROOM)?.reason).toBe("kicked");
    expect(o.listenerOut(ROOM)).toBe(true);
    await o.ensure(ROOM, PUPPET, "bob", "matrix");
    expect(o.problemOf(ROOM)?.reason).toBe("kicked");
    await o.ensure(ROOM, o.listenerJid(), LISTENER_NICK, "parley", { roster: true });
    expect(o.unhealthy()).toEqual([]);
    expect(o.listenerOut(ROOM)).toBe(false);
  });

  it("the room destroyed (XEP-0045 §10.9): marked with the owner's reason; a join that would make a new room is left and fails for good", async () => {
    const muc = new ScriptedMuc();
    const { o, rt, counted } = setup(muc);
    await o.ensure(ROOM, o.listenerJid(), LISTENER_NICK, "parley");
    await handleMucStanza(rt, o, gone(o.listenerJid(), LISTENER_NICK, xml("destroy", {}, xml("reason", {}, "moved elsewhere")), xml("status", { code: "110" })));
    expect(o.unhealthy()).toEqual([{ room: ROOM, reason: "destroyed", detail: "the room was destroyed: moved elsewhere" }]);
    expect(counted).toEqual(["destroyed"]);
    muc.answer = "created";
    await expect(o.ensure(ROOM, o.listenerJid(), LISTENER_NICK, "parley", { roster: true })).rejects.toThrow("destroyed");
    expect(muc.leaves).toEqual([`${ROOM}/${LISTENER_NICK}`]);
    expect(o.problemOf(ROOM)?.reason).toBe("destroyed");

    // The next process (a restart, or the next holder of the link) knows: its listener's join at link-up does not make the room again.
    const next = setup(muc);
    await next.o.linkUp([ROOM]);
    expect(next.o.problemOf(ROOM)).toEqual({ room: ROOM, reason: "destroyed", detail: "the room was destroyed: moved elsewhere", listener: true });
    await expect(next.o.ensure(ROOM, next.o.listenerJid(), LISTENER_NICK, "parley", { roster: true })).rejects.toThrow("destroyed");
    expect(muc.leaves).toHaveLength(2);
    expect(next.counted).toEqual([]); // counted once, by the process that saw it

    muc.answer = "ok"; // the owner made the room again
    await next.o.ensure(ROOM, next.o.listenerJid(), LISTENER_NICK, "parley", { roster: true });
    expect(next.o.unhealthy()).toEqual([]);
    await expect.poll(() => redis.hget(keyspace(prefix).key("state", "xmpp", occupantsMap(ROOM)), "destroyed")).toBeNull();
    const third = setup(muc);
    await third.o.linkUp([ROOM]);
    expect(third.o.problemOf(ROOM)).toBeUndefined();
  });

  it("a nick taken, and its fallback too: nick-conflict", async () => {
    const muc = new ScriptedMuc();
    const { o } = setup(muc);
    muc.answer = "conflict";
    await expect(o.ensure(ROOM, PUPPET, "bob", "matrix")).rejects.toThrow();
    expect(muc.joins).toEqual([`${ROOM}/bob`, `${ROOM}/bob [matrix]`]);
    expect(o.problemOf(ROOM)?.reason).toBe("nick-conflict");
  });
});
