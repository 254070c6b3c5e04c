/**
 * Issue 10, duplicates: a mail the relay accepted is not sent again when its delivery fails
 * afterwards on a Redis write (the thread record, the id link) and the job runs again — the
 * bookkeeping is done on the re-run, the SMTP send is not repeated (src/adapter/confirmed-sends.ts).
 * The relay here is a local SMTP listener counting what it accepts: what is tested is the
 * adapter's own order of steps, not an MTA.
 */
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { SMTPServer } from "smtp-server";
import { EmailConfigSchema } from "../../../adapters/email/config.js";
import { Outbound } from "../../../adapters/email/outbound.js";
import { endpoint } from "../../../src/model/address.js";
import { newCanonicalId } from "../../../src/model/ids.js";
import { MessageSchema, type Message } from "../../../src/model/message.js";
import { silentLogger } from "../../../src/log/logger.js";
import { MemoryIdMap, MemoryStateStore } from "../../support/fake-context.js";
import { testMappings } from "../../support/mappings.js";

const mappings = testMappings({
  networks: { email: { settings: { sharedDomains: { xmpp: "xmpp.gw.example.org" } } }, xmpp: {} },
  domains: { "mail.example.org": { home: "email" }, "chat.example.org": { home: "xmpp" } },
});

/** A state store whose thread writes fail while `failing` (Redis killed after the SMTP send). */
class FlakyStore extends MemoryStateStore {
  failing = true;
  override async set(key: string, value: string): Promise<void> {
    if (this.failing && key.startsWith("thread:")) throw new Error("Stream isn't writeable");
    return super.set(key, value);
  }
}

let relay: SMTPServer | undefined;
afterEach(async () => { await new Promise<void>((r) => (relay ? relay.close(() => r()) : r())); relay = undefined; });

async function countingRelay(): Promise<{ port: number; accepted: string[] }> {
  const accepted: string[] = [];
  relay = new SMTPServer({
    authOptional: true, disabledCommands: ["STARTTLS"], logger: false,
    onData(stream, _session, done) {
      let raw = "";
      stream.on("data", (c: Buffer) => { raw += c.toString("utf8"); });
      stream.on("end", () => { accepted.push(/^Message-ID: (.*)$/im.exec(raw)?.[1] ?? "?"); done(); });
    },
  });
  await new Promise<void>((r) => relay!.listen(0, "127.0.0.1", () => r()));
  return { port: (relay.server.address() as AddressInfo).port, accepted };
}

const message = (): Message => MessageSchema.parse({
  id: newCanonicalId(), from: endpoint("alice@chat.example.org", "xmpp"), to: endpoint("carol@mail.example.org", "email"),
  authenticatedBy: { method: "network" }, sentAt: new Date().toISOString(), kind: "chat", parts: [{ role: "text", body: "hi" }],
});

describe("email outbound after a failed write that follows the send (issue 10)", () => {
  it("T-5.4.1 the re-run does the bookkeeping and sends nothing again; another message is sent", async () => {
    const { port, accepted } = await countingRelay();
    const store = new FlakyStore();
    const ids = new MemoryIdMap();
    const out = new Outbound({
      config: EmailConfigSchema.parse({ outbound: { mode: "relay", host: "127.0.0.1", port, opportunisticTLS: false } }),
      store, ids, mappings: () => mappings, blobs: undefined as never, log: silentLogger(), dkimKeys: [],
    });
    const m = message();
    await expect(out.deliver(m)).rejects.toThrow(/writeable/);
    expect(accepted).toHaveLength(1);
    store.failing = false;
    const again = await out.deliver(m);
    expect(again.state).toBe("relayed");
    expect(accepted).toHaveLength(1);
    expect([...store.values.keys()].some((k) => k.startsWith("thread:"))).toBe(true);
    expect(await ids.nativeFor(m.id, "email", "message-id")).toMatchObject({ id: accepted[0] });
    await out.deliver(message());
    expect(accepted).toHaveLength(2);
  });
});
