/**
 * The hostile corpus (test/fixtures/xmpp/hostile, table in corpus.json): each file is replayed
 * either raw on the component link — its bytes injected through the adapter's byte-cap layer
 * exactly as if Prosody had sent them (ComponentLink.inject) — or through Prosody from a real
 * client (raw bytes written on its c2s stream). Each file's expected outcome is checked: a stanza
 * error with the listed condition reaching the real client, a log line for what is dropped, an
 * accepted canonical event, or nothing at all. The adapter stays connected throughout.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MessageEvent } from "../../../src/model/events.js";
import { asNetworkId } from "../../../src/model/address.js";
import type { XmppAdapter } from "../../../adapters/xmpp/index.js";
import type { FakeContext } from "../../support/fake-context.js";
import { LogCapture, connectUser, prosody, startAdapter, type Stanza, type TestUser } from "./support.js";

interface CorpusEntry { file: string; via: "raw" | "client"; domain?: string; expect: string; why: string; log?: string }

const DIR = new URL("../../fixtures/xmpp/hostile/", import.meta.url);
const corpus = JSON.parse(readFileSync(new URL("corpus.json", DIR), "utf8")) as CorpusEntry[];
const NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas";
const condition = (s: Stanza) => s.getChild("error")?.getChildElements().find((c) => c.attrs.xmlns === NS_STANZAS && c.name !== "text")?.name;

/** Expand the corpus placeholders into bytes. */
function render(template: string, vars: { user: string; domain: string }): Buffer {
  const parts: Buffer[] = [];
  const re = /\{\{(USER|DOMAIN|PAD|NEST|ATTRS|BYTES)(?::([^}]*))?\}\}/g;
  let last = 0;
  for (const m of template.matchAll(re)) {
    parts.push(Buffer.from(template.slice(last, m.index)));
    const arg = m[2] ?? "";
    const n = Number(arg);
    switch (m[1]) {
      case "USER": parts.push(Buffer.from(vars.user)); break;
      case "DOMAIN": parts.push(Buffer.from(vars.domain)); break;
      case "PAD": parts.push(Buffer.from("x".repeat(n))); break;
      case "NEST": parts.push(Buffer.from("<a>".repeat(n) + "</a>".repeat(n))); break;
      case "ATTRS": parts.push(Buffer.from(Array.from({ length: n }, (_, i) => ` a${i}='1'`).join(""))); break;
      case "BYTES": parts.push(Buffer.from(arg.split(" ").map((h) => parseInt(h, 16)))); break;
    }
    last = m.index + m[0].length;
  }
  parts.push(Buffer.from(template.slice(last)));
  return Buffer.concat(parts);
}

const idOf = (template: string) => /id='(h-[a-z0-9]+)'/.exec(template)?.[1];

describe("T-2.5.1 hostile stanza corpus: raw on the component link and through Prosody", () => {
  let adapter: XmppAdapter;
  let ctx: FakeContext;
  let erin: TestUser;
  const logs = new LogCapture();

  beforeAll(async () => {
    ({ adapter, ctx } = await startAdapter({ ctx: { log: logs.logger } }));
    erin = await connectUser("erin", { resource: "hostile" });
  });
  afterAll(async () => {
    await erin?.stop();
    await adapter?.stop();
  });

  it("has at least 50 files, each with an expected outcome", () => {
    expect(corpus.length).toBeGreaterThanOrEqual(50);
    for (const e of corpus) expect(readFileSync(new URL(e.file, DIR), "utf8").length, e.file).toBeGreaterThan(0);
  });

  async function waitLog(match: (line: string) => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      if (logs.lines.some((l) => match(JSON.stringify(l)))) return;
      await new Promise((r) => setTimeout(r, 20)); // polling a condition, bounded
    }
    throw new Error(`no log line for ${what}`);
  }

  for (const entry of corpus) {
    it(`${entry.file} via ${entry.via} → ${entry.expect}`, async () => {
      const template = readFileSync(new URL(entry.file, DIR), "utf8");
      const id = idOf(template);
      const bytes = render(template, { user: erin.jid, domain: prosody().userDomain });
      if (entry.via === "raw") adapter.link!.inject(entry.domain ?? "matrix.test", bytes);
      else await erin.xmpp.write(bytes.toString());
      const [kind, cond] = entry.expect.split(":");
      if (kind === "error") {
        const err = await erin.inbox.next((s) => s.attrs.id === id && s.attrs.type === "error", 10_000, `error for ${id}`);
        expect(condition(err)).toBe(cond);
        expect(err.getChild("error")?.getChildText("text", NS_STANZAS)).toBeTruthy();
      } else if (kind === "dropped") {
        await waitLog((l) => l.includes(entry.log ?? String(id)) && (l.includes("stanza-dropped") || l.includes("stanza-rejected")), entry.file);
      } else if (kind === "accepted") {
        const ev = await ctx.waitForAccepted((e): e is MessageEvent => e.kind === "message" && e.message.nativeIds.some((n) => n.id === id), 10_000);
        for (const s of Object.values(ev.message.subject ?? {})) expect(s).not.toMatch(/[\r\n]/);
        expect(ev.message.to.network).toBe(asNetworkId("matrix"));
        expect(ev.message.from.address).toBe(erin.bare); // never a spoofed identity
      } else if (kind === "ignored") {
        // Ordered behind a sentinel on the same path: when the sentinel is accepted, the file was handled.
        const sentinel = `sentinel-${id}`;
        const s = `<message to='dan@matrix.test' id='${sentinel}' type='chat'><body>sentinel</body></message>`;
        if (entry.via === "raw") adapter.link!.inject("matrix.test", s.replace("<message ", `<message from='${erin.jid}' `));
        else await erin.xmpp.write(s);
        await ctx.waitForAccepted((e): e is MessageEvent => e.kind === "message" && e.message.nativeIds.some((n) => n.id === sentinel));
        expect(ctx.accepted.some((e) => e.kind === "message" && e.message.nativeIds.some((n) => n.id === id))).toBe(false);
        expect(erin.inbox.seen.some((x) => x.attrs.id === id)).toBe(false);
      } else {
        throw new Error(`unknown expectation ${entry.expect}`);
      }
    });
  }

  it("T-2.5.1 the adapter stayed connected through the whole corpus, and still carries messages", async () => {
    expect(adapter.health().ready).toBe(true);
    const reconnects = logs.lines.filter((l) => l.msg === "component link reconnect scheduled");
    expect(reconnects).toHaveLength(0);
    await erin.xmpp.write("<message to='dan@matrix.test' id='after-corpus' type='chat'><body>still here</body></message>");
    await ctx.waitForAccepted((e): e is MessageEvent => e.kind === "message" && e.message.nativeIds.some((n) => n.id === "after-corpus"));
  });
});
