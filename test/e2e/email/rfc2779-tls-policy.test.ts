/**
 * RFC 2779 2.5.4 (confidentiality may be used but cannot be forced on every client) and 2.5.3 (b)
 * (the sender can limit who reads: a hop without TLS is refused when policy requires it). The
 * harness Postfix offers no STARTTLS (`smtpd_tls_security_level = none`): a legacy SMTP peer.
 * `outbound.requireTLS` is the per-deployment policy: off, mail still flows to the legacy peer;
 * on, Parley refuses to send in clear and the peer receives nothing. (The refusal's text is the
 * peer's answer to STARTTLS, e.g. "502 5.5.1 command not implemented"; the cause names STARTTLS.)
 */
import { readMaildir, waitForMail } from "../../harness/mta/maildir.js";
import { mtaCoordinates } from "../../harness/mta/inject.js";
import { describe, expect, it } from "vitest";
import { MailSender } from "../../../adapters/email/outbound.js";
import { silentLogger } from "../../../src/log/logger.js";
import { DeliveryError } from "../../../src/adapter/contract.js";
import { adapterConfig } from "./support.js";

const mta = mtaCoordinates();
const inbox = mta.maildirs["example.org"]!;

function senderWith(requireTLS: boolean): MailSender {
  const base = adapterConfig(mta);
  const config = { ...base, outbound: { ...base.outbound, requireTLS, opportunisticTLS: true } };
  return new MailSender({ config, dkimKeys: [], log: silentLogger() });
}

function mail(tag: string) {
  return {
    envelope: { from: "bounces@gw.example.org", to: ["carol@example.org"] },
    from: "alice@chat.example.org", to: "carol@example.org", subject: tag,
    messageId: `<${tag}@gw.example.org>`, text: `body ${tag}`,
  };
}

describe("RFC 2779 2.5.3 / 2.5.4: TLS is a policy, not hard-wired", () => {
  it("T-2.5.4 with requireTLS off, a legacy SMTP peer without STARTTLS still gets the mail", async () => {
    const tag = `tls-off-${Date.now()}`;
    await senderWith(false).send(mail(tag), undefined, "carol@example.org");
    const got = await waitForMail(inbox, (m) => m.raw.includes(`body ${tag}`));
    expect(got.header("subject")).toBe(tag);
  });

  it("T-2.5.3 T-2.5.4 with requireTLS on, the same peer is refused (permanently, at STARTTLS) and receives nothing", async () => {
    const tag = `tls-on-${Date.now()}`;
    const err = await senderWith(true).send(mail(tag), undefined, "carol@example.org").then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(DeliveryError);
    expect((err as DeliveryError).failureClass).toBe("permanent");
    expect((err as DeliveryError).cause).toMatchObject({ code: "ETLS", command: "STARTTLS" });
    // The sender is told what the policy refused, not the relay's misleading "command not implemented".
    expect((err as DeliveryError).reason).toBe("refused-by-policy");
    expect((err as DeliveryError).message).toMatch(/offers no TLS.*requireTLS/);
    // Control: a mail sent after it, in clear, arrives; the refused one never did.
    const control = `tls-control-${Date.now()}`;
    await senderWith(false).send(mail(control), undefined, "carol@example.org");
    await waitForMail(inbox, (m) => m.raw.includes(`body ${control}`));
    expect(readMaildir(inbox).some((m) => m.raw.includes(`body ${tag}`))).toBe(false);
  });
});
