/** The shared adapter contract (T-3.1.1, T-4.1.1, T-4.1.2, T-2.1.4) for email, with the real Postfix. */
import { adapterContractSuite } from "../../contract/adapter-contract.js";
import { mtaCoordinates } from "../../harness/mta/inject.js";
import { waitForMail } from "../../harness/mta/maildir.js";
import { smtpSend } from "../../harness/mta/smtp-client.js";
import { alice, carol, composeMail, mailboxSigner, startAdapter } from "./support.js";

const mta = mtaCoordinates();

adapterContractSuite("email", async () => {
  const s = await startAdapter(mta);
  return {
    factory: s.factory,
    adapter: s.adapter, ctx: s.ctx, mappings: s.mappings,
    localUser: carol,
    foreignUser: alice,
    async expectReceived(text) {
      await waitForMail(mta.maildirs["example.org"]!, (m) => m.header("Delivered-To") === carol.address && m.raw.includes(text));
    },
    async sendFromLocal(text) {
      const raw = await composeMail({ from: "carol@example.org", to: "alice@chat.example.org", text, sign: mailboxSigner("example.org") });
      const r = await smtpSend(s.adapter.port, { from: "carol@example.org", to: ["alice@chat.example.org"] }, raw);
      if (r.final !== 250) throw new Error(`SMTP answered ${r.final} ${r.finalText}`);
    },
    // Email has no presence (RFC 2779 2.1.2): no expectPresenceSeen.
    async teardown() { await s.adapter.stop(); },
  };
});
