/**
 * The MTA harness itself (test/harness/mta): Postfix accepts on its loopback port, delivers into
 * the catch-all Maildir, bounces for a bounce domain with an RFC 3464 DSN relayed to Parley's
 * port, and can be stopped and started again.
 */
import { createServer, type Server } from "node:net";
import { describe, expect, it } from "vitest";
import { createTransport } from "nodemailer";
import { mtaCoordinates } from "../../harness/mta/inject.js";
import { startMta, stopMta } from "../../harness/mta/postfix.js";
import { waitForMail } from "../../harness/mta/maildir.js";

const mta = mtaCoordinates();
const transport = () => createTransport({ host: "127.0.0.1", port: mta.smtpPort, secure: false, ignoreTLS: true });

/** A minimal SMTP sink on Parley's port: records the DATA of each message. */
function sink(port: number): Promise<{ server: Server; got: Promise<string> }> {
  return new Promise((resolve) => {
    let deliver!: (s: string) => void;
    const got = new Promise<string>((r) => { deliver = r; });
    const server = createServer((sock) => {
      let data = "", inData = false;
      sock.on("error", () => undefined);
      sock.write("220 sink.test ESMTP\r\n");
      sock.on("data", (chunk) => {
        for (const line of chunk.toString("latin1").split(/(?<=\r\n)/)) {
          if (inData) {
            if (line === ".\r\n") { inData = false; sock.write("250 ok\r\n"); deliver(data); } else data += line;
          } else if (/^DATA/i.test(line)) { inData = true; sock.write("354 go\r\n"); }
          else if (/^QUIT/i.test(line)) { sock.end("221 bye\r\n"); }
          else if (/^EHLO/i.test(line)) sock.write("250 sink.test\r\n");
          else if (line.trim()) sock.write("250 ok\r\n");
        }
      });
    });
    server.listen(port, "127.0.0.1", () => resolve({ server, got }));
  });
}

describe("MTA harness", () => {
  it("delivers mail submitted over SMTP into the catch-all Maildir", async () => {
    const id = `<harness-${Date.now()}@gw.example.org>`;
    await transport().sendMail({ from: "a@gw.example.org", to: "anyone@example.org", subject: "hi", text: "hello", messageId: id });
    const m = await waitForMail(mta.maildirs["example.org"]!, (x) => x.header("Message-ID") === id);
    expect(m.header("Delivered-To")).toBe("anyone@example.org");
  });

  it("bounces after acceptance for a bounce domain and relays the DSN to Parley's port", async () => {
    const { server, got } = await sink(mta.parleyPort);
    try {
      await transport().sendMail({ envelope: { from: "bounces+x1@gw.example.org", to: ["ghost@nobody.example.org"] }, from: "a@gw.example.org", to: "ghost@nobody.example.org", subject: "x", text: "x" });
      const dsn = await got;
      expect(dsn).toMatch(/multipart\/report; report-type=delivery-status/);
      expect(dsn).toMatch(/Action: failed/);
    } finally {
      server.close();
    }
  });

  it("stops and starts again", async () => {
    await stopMta(mta);
    await expect(transport().verify()).rejects.toThrow();
    await startMta(mta);
    await expect(transport().verify()).resolves.toBe(true);
  });
});
