/** Email reaction notices (issue 18): off by default; when on, a reaction change is a short notice replying to its message. */
import { describe, expect, it } from "vitest";
import { EmailAdapter, emailCapabilities } from "../../../adapters/email/index.js";
import { EmailConfigSchema } from "../../../adapters/email/config.js";
import { asReactionNotice } from "../../../adapters/email/reactions.js";
import { MessageSchema } from "../../../src/model/message.js";

const target = "0190f5c6-1a2b-7c3d-8e4f-5a6b7c8d9e0f";
const reaction = (op: "add" | "remove") => MessageSchema.parse({
  id: "0190f5c6-1a2b-7c3d-8e4f-5a6b7c8d9e10",
  from: { network: "xmpp", address: "alice@chat.example.org" },
  authenticatedBy: { method: "network" },
  to: { network: "email", address: "carol@mail.example.org" },
  sentAt: "2026-12-06T15:00:00.000Z",
  reaction: { target, key: "👍", op },
  parts: [{ role: "text", body: "👍" }],
});

describe("email reaction notices", () => {
  it("are off by default: the adapter declares no reactions, so the core drops them", () => {
    const adapter = new EmailAdapter(EmailConfigSchema.parse({}));
    expect(adapter.capabilities.chat?.reactions).toBe(false);
    expect(adapter.capabilities).toBe(emailCapabilities);
  });

  it("when the admin turns them on, the adapter declares reactions", () => {
    const adapter = new EmailAdapter(EmailConfigSchema.parse({ reactionNotices: true }));
    expect(adapter.capabilities.chat).toEqual({ ...emailCapabilities.chat, reactions: true });
    expect(emailCapabilities.chat?.reactions).toBe(false);
  });

  it("a reaction added becomes a notice replying to the message reacted to", () => {
    const notice = asReactionNotice(reaction("add"));
    expect(notice.reaction).toBeUndefined();
    expect(notice.inReplyTo).toBe(target);
    expect(notice.kind).toBe("notice");
    expect(notice.parts).toEqual([{ role: "text", body: "reacted 👍 to your message" }]);
  });

  it("a reaction removed says so", () => {
    expect(asReactionNotice(reaction("remove")).parts).toEqual([{ role: "text", body: "removed the reaction 👍 from your message" }]);
  });

  it("any other message is unchanged", () => {
    const { reaction: _r, ...plain } = reaction("add");
    expect(asReactionNotice(plain)).toBe(plain);
  });
});
