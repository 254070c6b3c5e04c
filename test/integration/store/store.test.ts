import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { asNetworkId } from "../../../src/model/address.js";
import { newCanonicalId } from "../../../src/model/ids.js";
import { deleteKeysUnder, keyspace, RedisAdapterStateStore, RedisIdMap, RedisInboundClaims } from "../../../src/store/index.js";
import { SHARED_REDIS, uniquePrefix, waitFor } from "../delivery/helpers.js";

const prefix = uniquePrefix("store");
const keys = keyspace(prefix);
let redis: Redis;
beforeAll(() => { redis = new Redis(SHARED_REDIS); });
afterAll(async () => { await deleteKeysUnder(redis, prefix); redis.disconnect(); });

describe("Redis store (src/adapter/state.ts)", () => {
  it("T-2.5.2 inbound claims: the first arrival claims, a replay learns the earlier id, per native id, for the TTL; only the claimant releases", async () => {
    const claims = new RedisInboundClaims(redis, keys, 60);
    const first = newCanonicalId();
    const replay = newCanonicalId();
    expect(await claims.claim("matrix|event||$e1", first)).toBeUndefined();
    expect(await claims.claim("matrix|event||$e1", replay)).toBe(first);
    expect(await claims.claim("xmpp|stanza-id||$e1", replay)).toBeUndefined();
    expect(await redis.ttl(keys.key("claims", "matrix|event||$e1"))).toBeGreaterThan(55);
    await claims.release("matrix|event||$e1", replay); // not the claimant: nothing happens
    expect(await claims.claim("matrix|event||$e1", replay)).toBe(first);
    await claims.release("matrix|event||$e1", first);
    expect(await claims.claim("matrix|event||$e1", replay)).toBeUndefined();
  });

  it("adapter state: get/set/TTL/setIfAbsent/delete under the adapter's own prefix", async () => {
    const xmpp = new RedisAdapterStateStore(redis, keys, asNetworkId("xmpp"));
    const matrix = new RedisAdapterStateStore(redis, keys, asNetworkId("matrix"));
    expect(await xmpp.get("k")).toBeUndefined();
    await xmpp.set("k", "v");
    expect(await xmpp.get("k")).toBe("v");
    expect(await matrix.get("k")).toBeUndefined();
    await xmpp.set("t", "v", 100);
    expect(await redis.ttl(keys.key("state", "xmpp", "t"))).toBeGreaterThan(95);
    expect(await xmpp.setIfAbsent("k", "w", 10)).toBe(false);
    expect(await xmpp.setIfAbsent("n", "w", 10)).toBe(true);
    await xmpp.delete("k");
    expect(await xmpp.get("k")).toBeUndefined();
  });

  it("leases: one holder at a time, renewal by the holder, release only by the holder, expiry", async () => {
    const s = new RedisAdapterStateStore(redis, keys, asNetworkId("xmpp"));
    expect(await s.lease("link", "p1", 5000)).toBe(true);
    expect(await s.lease("link", "p2", 5000)).toBe(false);
    expect(await s.lease("link", "p1", 5000)).toBe(true);
    await s.releaseLease("link", "p2");
    expect(await s.lease("link", "p2", 5000)).toBe(false);
    await s.releaseLease("link", "p1");
    expect(await s.lease("link", "p2", 50)).toBe(true);
    expect(await s.lease("link", "p3", 5000)).toBe(false);
    await waitFor(() => s.lease("link", "p3", 5000), 2000, "the 50 ms lease to expire");
  });

  it("id map: both directions, scopes kept apart, ids with separators", async () => {
    const m = new RedisIdMap(redis, keys, 3600);
    const c1 = newCanonicalId();
    const c2 = newCanonicalId();
    await m.link(c1, { network: "xmpp", kind: "origin-id", id: "a:b|c", scope: "room@x" });
    await m.link(c2, { network: "xmpp", kind: "origin-id", id: "a:b|c", scope: "other@x" });
    await m.link(c1, { network: "matrix", kind: "event", id: "$ev:server" });
    expect(await m.canonicalFor({ network: "xmpp", kind: "origin-id", id: "a:b|c", scope: "room@x" })).toBe(c1);
    expect(await m.canonicalFor({ network: "xmpp", kind: "origin-id", id: "a:b|c", scope: "other@x" })).toBe(c2);
    expect(await m.canonicalFor({ network: "xmpp", kind: "origin-id", id: "a:b|c" })).toBeUndefined();
    expect(await m.nativeFor(c1, "matrix", "event")).toEqual({ network: "matrix", kind: "event", id: "$ev:server" });
    expect(await m.nativeFor(c1, "xmpp", "origin-id")).toMatchObject({ scope: "room@x" });
    expect(await m.nativeFor(c2, "matrix", "event")).toBeUndefined();
  });

  it("deleteKeysUnder refuses the default prefix and only touches its own prefix", async () => {
    await expect(deleteKeysUnder(redis, "parley")).rejects.toThrow(/default prefix/);
    const other = uniquePrefix("store-other");
    await redis.set(`${other}:x`, "1");
    await redis.set(`${prefix}:y`, "1");
    await deleteKeysUnder(redis, prefix);
    expect(await redis.get(`${other}:x`)).toBe("1");
    expect(await redis.get(`${prefix}:y`)).toBeNull();
    await deleteKeysUnder(redis, other);
  });
});
