/** Issue 12 §5: a linked room's list — its addresses, header fields, members and envelope batches. */
import { describe, expect, it } from "vitest";
import { commandAddress, listHeaders, listIdOf, listTarget } from "../../../adapters/email/list/address.js";
import { ListMembers, MAX_LIST_MEMBERS } from "../../../adapters/email/list/members.js";
import { batches, LIST_BATCH } from "../../../adapters/email/list/outbound.js";
import { MemoryStateStore } from "../../support/fake-context.js";
import { oneClickHeaders, unsubscribeToken, verifyToken } from "../../../adapters/email/list/one-click.js";
import { EmailConfigSchema } from "../../../adapters/email/config.js";

const isList = (a: string) => a === "team@lists.example.org";

describe("list addresses", () => {
  it("finds the list, its subscribe and unsubscribe addresses, and nothing else", () => {
    expect(listTarget("team@Lists.Example.org", isList)).toEqual({ list: "team@lists.example.org", action: "post" });
    expect(listTarget("<mailto:team+subscribe@lists.example.org>".slice(1, -1), isList)).toEqual({ list: "team@lists.example.org", action: "subscribe" });
    expect(listTarget("team+UNSUBSCRIBE@lists.example.org", isList)).toEqual({ list: "team@lists.example.org", action: "unsubscribe" });
    expect(listTarget("team+other@lists.example.org", isList)).toBeUndefined();
    expect(listTarget("other@lists.example.org", isList)).toBeUndefined();
    expect(listTarget("not an address", isList)).toBeUndefined();
  });

  it("writes RFC 2369 and RFC 2919 header fields", () => {
    expect(listIdOf("team@lists.example.org")).toBe("team.lists.example.org");
    expect(commandAddress("team@lists.example.org", "unsubscribe")).toBe("team+unsubscribe@lists.example.org");
    const h = listHeaders("team@lists.example.org", "team");
    expect(h["List-Id"]).toBe("team <team.lists.example.org>");
    expect(h["List-Post"]).toBe("<mailto:team@lists.example.org>");
    expect(h["List-Unsubscribe"]).toBe("<mailto:team+unsubscribe@lists.example.org>");
    expect(h.Precedence).toBe("list");
  });
});

describe("list members", () => {
  it("adds, finds case-insensitively and removes a mailbox; repeats are answered, not doubled", async () => {
    const m = new ListMembers(new MemoryStateStore());
    expect(await m.add("team@lists.example.org", "Carol@Example.org")).toBe("added");
    expect(await m.add("team@lists.example.org", "carol@example.org")).toBe("already");
    expect(await m.has("TEAM@lists.example.org", "carol@EXAMPLE.org")).toBe(true);
    expect(await m.all("team@lists.example.org")).toEqual(["carol@example.org"]);
    expect(await m.remove("team@lists.example.org", "carol@example.org")).toBe("removed");
    expect(await m.remove("team@lists.example.org", "carol@example.org")).toBe("absent");
    expect(await m.has("team@lists.example.org", "carol@example.org")).toBe(false);
  });

  it("loses no subscription when many arrive at once", async () => {
    const m = new ListMembers(new MemoryStateStore());
    await Promise.all(Array.from({ length: 30 }, (_, i) => m.add("team@lists.example.org", `u${i}@example.org`)));
    expect(await m.all("team@lists.example.org")).toHaveLength(30);
  });

  it("refuses a subscription beyond the bound", async () => {
    const store = new MemoryStateStore();
    await store.set("list:team@lists.example.org:members", JSON.stringify(Array.from({ length: MAX_LIST_MEMBERS }, (_, i) => `u${i}@example.org`)));
    expect(await new ListMembers(store).add("team@lists.example.org", "late@example.org")).toBe("full");
  });
});

describe("envelope batches", () => {
  it("groups recipients by domain in batches of at most LIST_BATCH, the same for the same members", () => {
    const members = [...Array.from({ length: 120 }, (_, i) => `u${i}@a.example`), "x@b.example", "y@b.example"].sort();
    const b = batches(members);
    expect(b.map((x) => x.length)).toEqual([LIST_BATCH, LIST_BATCH, 120 - 2 * LIST_BATCH, 2]);
    for (const batch of b) expect(new Set(batch.map((r) => r.split("@")[1])).size).toBe(1);
    expect(b.flat().sort()).toEqual(members);
    expect(batches(members)).toEqual(b);
  });
});

describe("RFC 8058 one-click tokens and config", () => {
  const key = Buffer.from("one-click-unit-key-0123456789");
  it("a token names its list and mailbox, verifies only with its key, and cannot be moved to another mailbox", () => {
    const t = unsubscribeToken(key, "Team@lists.example.org", "Carol@Example.org");
    expect(verifyToken(key, t)).toEqual({ list: "team@lists.example.org", mailbox: "carol@example.org" });
    expect(unsubscribeToken(key, "team@lists.example.org", "carol@example.org")).toBe(t);
    expect(verifyToken(Buffer.from("another-key-of-enough-length"), t)).toBeUndefined();
    const other = unsubscribeToken(key, "team@lists.example.org", "dave@example.org");
    expect(verifyToken(key, `${other.split(".")[0]}.${t.split(".")[1]}`)).toBeUndefined();
    for (const bad of ["", ".", t.split(".")[0]!, `${t}x`, `${Buffer.from("a\nb\nc").toString("base64url")}.${t.split(".")[1]}`]) expect(verifyToken(key, bad), bad).toBeUndefined();
    const h = oneClickHeaders({ base: "https://lists.example.org", key }, "team@lists.example.org", "carol@example.org");
    expect(h["List-Unsubscribe"]).toBe(`<https://lists.example.org/list/unsubscribe?${t}>, <mailto:team+unsubscribe@lists.example.org>`);
    expect(h["List-Unsubscribe-Post"]).toBe("List-Unsubscribe=One-Click");
  });

  it("the config wants https (http only to loopback) and a key", () => {
    const ok = (oneClick: unknown) => EmailConfigSchema.safeParse({ oneClick }).success;
    expect(ok({ publicUrl: "https://lists.example.org", secretFile: "/run/secrets/k" })).toBe(true);
    expect(ok({ publicUrl: "http://127.0.0.1:8782", secret: "0123456789abcdef" })).toBe(true);
    expect(ok({ publicUrl: "http://lists.example.org", secretFile: "/run/secrets/k" })).toBe(false);
    expect(ok({ publicUrl: "https://lists.example.org" })).toBe(false);
    expect(EmailConfigSchema.parse({}).oneClick).toBeUndefined();
  });
});
