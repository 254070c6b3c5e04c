/**
 * RFC 2779 §2 (intro, unnumbered; id 2.0): small payloads must be cheap for low-bandwidth, high-latency
 * links. The canonical envelope of a short chat message, and the delivery job that carries it, stay
 * under a byte budget the project sets here. The Redis round trips of one send are counted in
 * test/integration/rfc2779/gateway-rfc2779.test.ts.
 */
import { describe, expect, it } from "vitest";
import { endpoint } from "../../../src/model/address.js";
import { newCanonicalId } from "../../../src/model/ids.js";
import { MessageSchema } from "../../../src/model/message.js";
import { messageJob } from "../../../src/core/jobs.js";

/** Budgets (bytes of UTF-8 JSON). Measured 2026-11: message 436, job 636 (UUIDv7 id, two endpoints, timestamp, defaults). */
const CANONICAL_TEXT_MESSAGE_BUDGET = 512;
const MESSAGE_JOB_BUDGET = 768;

const text20 = "See you at 5pm, ok?!"; // 20 characters

function shortMessage() {
  return MessageSchema.parse({
    id: newCanonicalId(),
    nativeIds: [{ network: "xmpp", kind: "origin-id", id: "a1b2c3d4e5f6" }],
    from: endpoint("alice@chat.example.org", "xmpp"),
    authenticatedBy: { method: "network", detail: "component link" },
    to: endpoint("bob@matrix.example.org", "matrix"),
    sentAt: new Date().toISOString(),
    parts: [{ role: "text", body: text20 }],
  });
}

describe("RFC 2779 §2: compact canonical envelope", () => {
  it("T-2.0 a 20-character text message serialises within the canonical-message budget, and its delivery job within the job budget", () => {
    expect([...text20]).toHaveLength(20);
    const m = shortMessage();
    const messageBytes = Buffer.byteLength(JSON.stringify(m));
    const jobBytes = Buffer.byteLength(JSON.stringify(messageJob(m, m.to.network)));
    console.info(`T-2.0 canonical 20-char message: ${messageBytes} bytes (budget ${CANONICAL_TEXT_MESSAGE_BUDGET}); delivery job: ${jobBytes} bytes (budget ${MESSAGE_JOB_BUDGET})`);
    expect(messageBytes).toBeLessThanOrEqual(CANONICAL_TEXT_MESSAGE_BUDGET);
    expect(jobBytes).toBeLessThanOrEqual(MESSAGE_JOB_BUDGET);
  });
});
