/**
 * Issue 12, "Bad input": the pure bounds of room text and room members, and what Parley remembers
 * when a Matrix room removes one of its puppets. Each answer is bounded; nothing else breaks.
 */
import { describe, expect, it } from "vitest";
import { DeliveryError } from "../../../src/adapter/contract.js";
import { asNetworkId, canonicalAddress, localOf } from "../../../src/model/address.js";
import { newCanonicalId } from "../../../src/model/ids.js";
import { cleanRoomText, MAX_ROOM_NAME_CHARS, MAX_SUBJECT_CHARS, RoomActivitySchema } from "../../../src/model/room-events.js";
import { silentLogger } from "../../../src/log/logger.js";
import { MAX_NICK_CHARS, nickFor } from "../../../adapters/xmpp/muc/occupants.js";
import { occupantEndpoint } from "../../../adapters/xmpp/muc/inbound.js";
import { unescapeLocal } from "../../../adapters/xmpp/address.js";
import { ownUserMembership, refuseIfRemoved } from "../../../adapters/matrix/rooms/removed.js";
import type { MatrixDeps } from "../../../adapters/matrix/deps.js";
import type { MatrixEvent } from "../../../adapters/matrix/types.js";
import { MemoryStateStore } from "../../support/fake-context.js";

const ROOM = "lounge@conference.example.org";

describe("issue 12 bad input: a nick of 1,000 characters, a subject with control characters or CR/LF", () => {
  it("a 1,000-character nick or display name is cut to one bounded line (256 for names, 64 as a MUC nick)", () => {
    const long = "n".repeat(1_000);
    expect(cleanRoomText(long, MAX_ROOM_NAME_CHARS)).toHaveLength(256);
    expect(nickFor(long, "fallback")).toHaveLength(MAX_NICK_CHARS);
    // Cut by characters, never inside one: an emoji nick keeps whole code points.
    expect([...nickFor("😀".repeat(1_000), "x")]).toHaveLength(MAX_NICK_CHARS);
    expect(nickFor(" \r\n\u0000 ", "bob")).toBe("bob");
  });

  it("a subject with CR/LF, NUL, C1 and line separators becomes one line of at most 1,024 characters", () => {
    const subject = `first\r\nBcc: evil@example.org\u0000\u0085second\u2028third${"x".repeat(2_000)}`;
    const clean = cleanRoomText(subject, MAX_SUBJECT_CHARS);
    for (const c of ["\r", "\n", "\u0000", "\u0085", "\u2028"]) expect(clean).not.toContain(c);
    expect(clean.startsWith("first Bcc: evil@example.org second third")).toBe(true);
    expect([...clean]).toHaveLength(MAX_SUBJECT_CHARS);
  });

  it("an activity carrying text longer than the bounds is refused with the field named, not cut silently", () => {
    const at = new Date().toISOString();
    const who = { address: canonicalAddress("bob@matrix.example.org"), network: asNetworkId("matrix") };
    const auth = { method: "network" as const, detail: "test" };
    const name = RoomActivitySchema.safeParse({ type: "membership", membership: { id: newCanonicalId(), member: who, change: "join", displayName: "n".repeat(257), authenticatedBy: auth, at } });
    expect(name.success).toBe(false);
    expect(name.error?.issues[0]?.path.join(".")).toBe("membership.displayName");
    const subject = RoomActivitySchema.safeParse({ type: "subject", subject: { id: newCanonicalId(), by: who, subject: "s".repeat(1_025), authenticatedBy: auth, at } });
    expect(subject.error?.issues[0]?.path.join(".")).toBe("subject.subject");
  });
});

describe("issue 12: an anonymous room's occupant as a member (muc/inbound.ts occupantEndpoint)", () => {
  it("room/nick is one address at the MUC service's domain, reversible, one per nick (case and spaces kept)", () => {
    const a = occupantEndpoint(ROOM, "Bob Smith/2")!;
    expect(a.network).toBe("xmpp");
    expect(a.address.endsWith("@conference.example.org")).toBe(true);
    expect(unescapeLocal(localOf(a.address))).toBe("lounge/Bob Smith/2");
    expect(occupantEndpoint(ROOM, "bob smith/2")!.address).not.toBe(a.address);
  });

  it("a nick of 1,000 characters makes no address: undefined (the occupant is told, not bridged), never an exception", () => {
    expect(occupantEndpoint(ROOM, "n".repeat(1_000))).toBeUndefined();
    expect(occupantEndpoint(ROOM, "n".repeat(200))).toBeDefined();
  });
});

describe("issue 12: a puppet kicked or banned from a Matrix room (rooms/removed.ts)", () => {
  const BOT = "@bot:matrix.example.org";
  const PUPPET = "@_parley_xmpp_alice=40chat.example.org:matrix.example.org";
  const deps = () => ({ ctx: { state: new MemoryStateStore() }, log: silentLogger(), bot: BOT }) as unknown as MatrixDeps;
  const member = (membership: string, sender: string, prev?: string, reason?: string): MatrixEvent => ({
    type: "m.room.member", room_id: "!r:matrix.example.org", event_id: `$${Math.random()}`, sender, state_key: PUPPET, origin_server_ts: Date.now(),
    content: { membership, ...(reason ? { reason } : {}) }, ...(prev ? { unsigned: { prev_content: { membership: prev } } } : {}),
  });
  const refusal = async (d: MatrixDeps) => refuseIfRemoved(d, "!r:matrix.example.org", PUPPET).then(() => undefined, (e: unknown) => e);

  it("a kick is remembered with who and why; the member's next delivery fails for good; an invite lifts it", async () => {
    const d = deps();
    await d.ctx.state.set(`joined:!r:matrix.example.org|${PUPPET}`, "1");
    await ownUserMembership(d, member("leave", "@mod:matrix.example.org", "join", "spam"));
    const e = await refusal(d);
    expect(e).toBeInstanceOf(DeliveryError);
    expect((e as DeliveryError).failureClass).toBe("permanent");
    expect((e as DeliveryError).reason).toBe("refused-by-policy");
    expect((e as DeliveryError).message).toContain("kicked from the Matrix room !r:matrix.example.org by @mod:matrix.example.org: spam");
    expect(await d.ctx.state.get(`joined:!r:matrix.example.org|${PUPPET}`)).toBeUndefined();
    await ownUserMembership(d, member("invite", "@mod:matrix.example.org", "leave"));
    expect(await refusal(d)).toBeUndefined();
  });

  it("a ban (also while a message is in flight) is remembered until an unban; the puppet's own leave is not a removal", async () => {
    const d = deps();
    await ownUserMembership(d, member("leave", PUPPET, "join"));
    expect(await refusal(d)).toBeUndefined();
    await ownUserMembership(d, member("ban", "@mod:matrix.example.org", "join"));
    expect(String(await refusal(d))).toContain("banned");
    await ownUserMembership(d, member("leave", "@mod:matrix.example.org", "ban"));
    expect(await refusal(d)).toBeUndefined();
  });
});
