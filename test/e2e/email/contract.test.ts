/** The shared adapter contract (T-3.1.1, T-4.1.1, T-4.1.2, T-2.1.4) for email, with the real Postfix. */
import { adapterContractSuite } from "../../contract/adapter-contract.js";
import { mtaCoordinates } from "../../harness/mta/inject.js";
import { waitForMail } from "../../harness/mta/maildir.js";
import { smtpSend } from "../../harness/mta/smtp-client.js";
import { setRecipientAccess, startMta, stopMta } from "../../harness/mta/postfix.js";
import { alice, carol, composeMail, mailboxSigner, startAdapter } from "./support.js";

const mta = mtaCoordinates();

adapterContractSuite("email", async () => {
  const s = await startAdapter(mta);
  const send = async (text: string) => {
    const raw = await composeMail({ from: "carol@example.org", to: "alice@chat.example.org", text, sign: mailboxSigner("example.org") });
    return smtpSend(s.adapter.port, { from: "carol@example.org", to: ["alice@chat.example.org"] }, raw);
  };
  return {
    factory: s.factory,
    adapter: s.adapter, config: s.config, ctx: s.ctx, mappings: s.mappings,
    localUser: carol,
    foreignUser: alice,
    async expectReceived(text) {
      await waitForMail(mta.maildirs["example.org"]!, (m) => m.header("Delivered-To") === carol.address && m.raw.includes(text));
    },
    async sendFromLocal(text) {
      const r = await send(text);
      if (r.final !== 250) throw new Error(`SMTP answered ${r.final} ${r.finalText}`);
    },
    /** SMTP's own answers: 250 accepted, 4xx try later, 5xx refused (RFC 5321 §4.2.1). */
    async sendAndObserve(text) {
      const r = await send(text);
      // A refusal may come at RCPT (no DATA then); the last reply given is the answer.
      const code = r.final ?? r.rcpt.find((c) => c !== 250) ?? r.mail;
      return code === 250 ? "accepted" : code >= 400 && code < 500 ? "try-later" : "refused";
    },
    /**
     * The real Postfix relay: stopped (a peer down), or refusing carol at RCPT with a 5xx (a
     * refused recipient) or a 4.7.1 "slow down" (RFC 3463 §3.8: a policy deferral).
     */
    async provokeFailure(failureClass) {
      if (failureClass === "transient") {
        await stopMta(mta);
        return { restore: () => startMta(mta) };
      }
      const reply = failureClass === "permanent" ? "550 5.1.1 No such user here" : "450 4.7.1 Too much mail from you, slow down";
      await setRecipientAccess(mta, { [carol.address]: reply });
      return { restore: () => setRecipientAccess(mta, {}) };
    },
    // Email has no presence (RFC 2779 2.1.2): no expectPresenceSeen.
    async teardown() { await s.adapter.stop(); },
  };
});
