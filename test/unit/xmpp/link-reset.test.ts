/**
 * A server that resets the component connection while the stream opens (a Prosody restarting, a
 * proxy refusing) must cost a reconnect and nothing else. xmpp.js' `start()` leaves a promise for
 * "online" unawaited when the open fails; the reset rejected it with nobody listening, and an
 * unhandled rejection ends a Node process (CI at d8ebe59 caught one in the trace e2e test, whose
 * proxy refuses while the link is cut). Both the link and `parley doctor`'s handshake open the
 * stream through `openComponentStream`, which has no such promise.
 */
import { createServer, type Server, type Socket } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DomainLink } from "../../../adapters/xmpp/domain-link.js";
import { componentHandshake } from "../../../adapters/xmpp/doctor.js";
import { silentLogger } from "../../../src/log/logger.js";
import { until } from "../../support/until.js";

let server: Server;
let port: number;
let accepted = 0;
const unhandled: unknown[] = [];
const record = (reason: unknown): void => { unhandled.push(reason); };

beforeEach(async () => {
  accepted = 0;
  unhandled.length = 0;
  process.on("unhandledRejection", record);
  // Accepts, reads the stream header, and answers with a TCP reset.
  server = createServer((s: Socket) => {
    accepted++;
    s.on("error", () => undefined);
    s.once("data", () => s.resetAndDestroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as { port: number }).port;
});
afterEach(async () => {
  process.off("unhandledRejection", record);
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** One turn of the event loop: rejections left unhandled so far have been reported by then. */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe("a component connection reset while its stream opens", () => {
  it("the link reconnects again and again, and no rejection goes unhandled", async () => {
    let online = 0;
    const link = new DomainLink("component.example.org", {
      host: "127.0.0.1", port, secret: "secret", maxStanzaBytes: 65_536,
      reconnect: { baseMs: 5, maxMs: 10 }, iqTimeoutMs: 1_000, log: silentLogger(),
    }, { stanza: () => undefined, rejected: () => undefined, online: () => { online++; }, offline: () => undefined });
    link.start();
    try {
      await until("five connections reset by the server", () => (accepted >= 5 ? true : undefined), 10_000, 5);
      await nextTurn();
    } finally {
      await link.stop();
    }
    expect(online).toBe(0);
    expect(unhandled.map(String)).toEqual([]);
  });

  it("parley doctor's handshake reports the reset as a finding, and no rejection goes unhandled", async () => {
    const answer = await componentHandshake("127.0.0.1", port, "component.example.org", "secret", 5_000);
    await nextTurn();
    expect(answer).toMatch(/ECONNRESET/);
    expect(unhandled.map(String)).toEqual([]);
  });
});
