/**
 * Issue 11, class 9: a 1000-event Matrix transaction to one XMPP user, through real Synapse-facing
 * listener, BullMQ and Prosody. Prints where the time goes (answer, delivery rate) and checks that
 * a message in another conversation (a mail to the same XMPP user) is not starved by the burst.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { smtpSend } from "../../harness/mta/smtp-client.js";
import { composeMail } from "../email/support.js";
import { bodyOf, startCrossRig, type CrossRig } from "./rig.js";

const SLOT = 7;
const N = Number(process.env.PARLEY_BURST_EVENTS ?? 1000);
const slot = inject("synapse").appservices[SLOT]!;
let r: CrossRig;
let room: string;

beforeAll(async () => {
  r = await startCrossRig(SLOT, "burst");
  const puppet = r.on("matrix", r.aliceEp);
  ({ room_id: room } = await r.bob.client.createRoom({ invite: [puppet], is_direct: true }));
  await r.bob.waitForEvent((e) => e.getRoomId() === room && e.getStateKey() === puppet && e.getContent().membership === "join", 30_000, "the puppet joining");
});
afterAll(async () => { await r?.stop(); });

describe("T-4.3.1 a 1000-event transaction does not starve other conversations", () => {
  it(`${N} events from one Matrix user reach XMPP in order; a mail to the same user in the meantime is not held back`, async () => {
    const run = Date.now().toString(36);
    const events = Array.from({ length: N }, (_, i) => ({ type: "m.room.message", room_id: room, sender: r.bob.userId, event_id: `$burst-${run}-${i}`, origin_server_ts: Date.now(), content: { msgtype: "m.text", body: `burst ${run} ${i}` } }));
    const seen: number[] = [];
    r.alice.xmpp.on("stanza", (s) => { const m = new RegExp(`^burst ${run} (\\d+)$`).exec(bodyOf(s)); if (m) seen.push(Number(m[1])); });
    const t0 = Date.now();
    const res = await fetch(`http://127.0.0.1:${slot.port}/_matrix/app/v1/transactions/burst-${run}`, { method: "PUT", headers: { authorization: `Bearer ${slot.hsToken}`, "content-type": "application/json" }, body: JSON.stringify({ events }) });
    expect(res.status).toBe(200);
    const answeredMs = Date.now() - t0;
    const aliceMail = r.on("email", r.aliceEp);
    const raw = await composeMail({ from: "Carol <carol@example.org>", to: aliceMail, text: `other conversation ${run}` });
    const t1 = Date.now();
    expect((await smtpSend(r.mta.parleyPort, { from: "carol@example.org", to: [aliceMail] }, raw)).final).toBe(250);
    await r.alice.inbox.next((s) => s.is("message") && bodyOf(s).includes(`other conversation ${run}`), 60_000, "the mail");
    const otherMs = Date.now() - t1;
    const burstBefore = seen.length;
    const deadline = Date.now() + 300_000;
    while (seen.length < N && Date.now() < deadline) await new Promise((res2) => setTimeout(res2, 100)); // waiting on state, bounded
    const totalMs = Date.now() - t0;
    console.log(`burst: ${N} events answered in ${answeredMs} ms; delivered to XMPP in ${totalMs} ms (${(N / (totalMs / 1000)).toFixed(0)}/s); a mail in another conversation arrived after ${otherMs} ms, with ${burstBefore} of the burst delivered`);
    expect(seen).toEqual([...Array(N).keys()]);
    expect(burstBefore).toBeLessThan(N);
  }, 400_000);
});
