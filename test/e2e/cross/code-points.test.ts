/**
 * Issue 11 class 1 ("Done when"): every Unicode code-point class sent from Matrix and from email
 * reaches a real XMPP client through real Prosody, made XML-safe (U+FFFD for what XML cannot
 * carry), and the component link is never closed: no reconnect is logged, and a plain message
 * right after the corpus arrives.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { codePointClasses } from "../../support/code-points.js";
import { LogCapture } from "../xmpp/support.js";
import { smtpSend } from "../../harness/mta/smtp-client.js";
import { composeMail, mailboxSigner } from "../email/support.js";
import { isXmlSafe, xmlSafeText } from "../../../adapters/xmpp/xml-safe.js";
import { bodyOf, startCrossRig, type CrossRig } from "./rig.js";

/** The code-point classes (the table beside the XMPP corpus, with what each must become). */
const CLASSES = codePointClasses();

/** Up to 48 code points of a range, ends included, each followed by "." so surrogates never pair. */
function sample([lo, hi]: [number, number]): string {
  const n = Math.min(48, hi - lo + 1);
  let s = "";
  for (let i = 0; i < n; i++) {
    const cp = lo + Math.round((i * (hi - lo)) / Math.max(1, n - 1));
    s += (cp >= 0xd800 && cp <= 0xdfff ? String.fromCharCode(cp) : String.fromCodePoint(cp)) + ".";
  }
  return s;
}

/** What an XML parser hands the client: CR and CRLF become LF (XML 1.0 §2.11). */
const asParsed = (s: string) => xmlSafeText(s).replace(/\r\n?/g, "\n");

const slot = inject("synapse").appservices[5]!;

/** A transaction straight to the application-service listener, as a homeserver would send it. */
async function pushEvent(ev: Record<string, unknown>): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${slot.port}/_matrix/app/v1/transactions/cp-${Date.now()}`, {
    method: "PUT", headers: { authorization: `Bearer ${slot.hsToken}`, "content-type": "application/json" }, body: JSON.stringify({ events: [ev] }),
  });
  expect(res.status).toBe(200);
}

const logs = new LogCapture();
let r: CrossRig;
let room: string;

beforeAll(async () => {
  r = await startCrossRig(5, "codepoints", logs.logger);
  const alicePuppet = r.on("matrix", r.aliceEp);
  ({ room_id: room } = await r.bob.client.createRoom({ invite: [alicePuppet], is_direct: true }));
  await r.bob.waitForEvent((e) => e.getRoomId() === room && e.getStateKey() === alicePuppet && e.getContent().membership === "join", 30_000, "the puppet joining");
});
afterAll(async () => { await r?.stop(); });

describe("T-2.5.1 every code-point class reaches a real XMPP client, and the component link survives", () => {
  for (const [name, range] of Object.entries(CLASSES)) {
    it(`from Matrix: ${name}`, async () => {
      const text = `[mx ${name}] ${sample(range)} end`;
      await r.bob.say(room, { msgtype: "m.text", body: text }).catch(async (e: unknown) => {
        // Synapse refuses some of these itself (lone surrogates: 500); Parley must still cope when
        // a homeserver does pass them on, so the same event goes straight to the listener.
        expect(String(e)).toMatch(/M_|MatrixError/);
        await pushEvent({ type: "m.room.message", room_id: room, sender: r.bob.userId, event_id: `$cp-${Date.now()}`, origin_server_ts: Date.now(), content: { msgtype: "m.text", body: text } });
      });
      const got = await r.alice.inbox.next((s) => s.is("message") && bodyOf(s).startsWith(`[mx ${name}]`), 30_000, `Matrix ${name}`);
      expect(isXmlSafe(bodyOf(got))).toBe(true);
      expect(bodyOf(got)).toBe(asParsed(text));
    });

    it(`from email: ${name}`, async () => {
      const aliceMail = r.on("email", r.aliceEp);
      for (const encoding of ["quoted-printable", "base64"] as const) {
        const tag = `[em ${encoding} ${name}]`;
        const text = `${tag} ${sample(range)} end`;
        const raw = await composeMail({ from: "Carol <carol@example.org>", to: aliceMail, subject: `cp ${encoding}`, text, encoding, sign: mailboxSigner("example.org") });
        const sent = await smtpSend(r.mta.smtpPort, { from: "carol@example.org", to: [aliceMail] }, raw);
        expect(sent.final).toBe(250);
        const got = await r.alice.inbox.next((s) => s.is("message") && bodyOf(s).includes(tag), 30_000, `email ${name} ${encoding}`);
        const body = bodyOf(got);
        expect(isXmlSafe(body)).toBe(true);
        expect(body).toContain(" end");
        // Characters XML carries arrive unchanged (the mail path may fold whitespace controls).
        for (const ch of asParsed(sample(range))) if (!/[\p{Cc}\uFFFD.]/u.test(ch)) expect(body).toContain(ch);
      }
    });
  }

  it("the component link was never closed, and a plain message still arrives", async () => {
    expect(logs.lines.filter((l) => l.msg === "component link reconnect scheduled")).toHaveLength(0);
    const online = logs.lines.filter((l) => l.msg === "component link online").map((l) => l.domain);
    expect(online.length).toBeGreaterThan(0);
    expect(new Set(online).size).toBe(online.length); // each domain came online once, never again
    await r.bob.say(room, { msgtype: "m.text", body: "plain after the corpus" });
    await r.alice.inbox.next((s) => s.is("message") && bodyOf(s) === "plain after the corpus", 30_000, "plain message");
  });
});
