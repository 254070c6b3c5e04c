/**
 * The media fetcher refuses every way a URL could pull Parley into a private network or exhaust
 * it (issue 13; DESIGN §5). Hostile URLs point at a loopback canary that must count no connection.
 */
import { createServer, type Server, type ServerResponse } from "node:http";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { Fetcher, type FetcherOptions } from "../../../src/media/fetcher.js";
import { isParleyError } from "../../../src/errors/parley-error.js";
import { projectCanary } from "../../support/canary.js";

const canary = projectCanary(inject("canary"));
let files: Server;
let filesPort = 0;
const routes = new Map<string, (res: ServerResponse) => void>();

/** `files.test` is the admin's allowed host (like an XMPP upload host on a private address). */
const names: Record<string, string> = { "files.test": "127.0.0.1", "evil.test": "10.1.2.3", "sneaky.test": "127.0.0.1" };
const resolve = async (host: string) => {
  const a = names[host];
  if (a) return [{ address: a, family: 4 }];
  if (host === "localhost") return [{ address: "127.0.0.1", family: 4 }];
  throw new Error("NXDOMAIN");
};

function fetcher(over: Partial<FetcherOptions> = {}): Fetcher {
  return new Fetcher({ connectTimeoutMs: 2_000, totalTimeoutMs: 5_000, maxRedirects: 3, allowHosts: ["files.test"], resolve, ...over });
}

async function refusal(p: Promise<unknown>): Promise<{ code: string; reason: unknown }> {
  try {
    await p;
  } catch (e) {
    if (isParleyError(e)) return { code: e.code, reason: e.details.reason };
    throw e;
  }
  throw new Error("expected a refusal");
}

async function drain(body: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const url = (path: string) => `http://files.test:${filesPort}${path}`;

beforeAll(async () => {
  routes.set("/ok", (res) => { res.writeHead(200, { "content-type": "image/png", "content-length": "5" }); res.end("hello"); });
  routes.set("/to-canary", (res) => { res.writeHead(302, { location: `http://127.0.0.1:${canary.port}/x` }); res.end(); });
  routes.set("/to-localhost", (res) => { res.writeHead(301, { location: `http://localhost:${canary.port}/x` }); res.end(); });
  routes.set("/to-ok", (res) => { res.writeHead(307, { location: "/ok" }); res.end(); });
  routes.set("/loop", (res) => { res.writeHead(302, { location: "/loop" }); res.end(); });
  routes.set("/huge-declared", (res) => { res.writeHead(200, { "content-length": String(50 * 1024 * 1024) }); res.write(Buffer.alloc(1024)); });
  routes.set("/huge-streamed", (res) => { res.writeHead(200); const chunk = Buffer.alloc(64 * 1024); for (let i = 0; i < 40; i++) res.write(chunk); res.end(); });
  routes.set("/trickle", (res) => { res.writeHead(200); const t = setInterval(() => res.write("x"), 50); res.on("close", () => clearInterval(t)); });
  routes.set("/silent", () => undefined);
  files = createServer((req, res) => (routes.get(req.url ?? "") ?? ((r: ServerResponse) => { r.writeHead(404); r.end(); }))(res));
  await new Promise<void>((r) => files.listen(0, "127.0.0.1", r));
  filesPort = (files.address() as { port: number }).port;
});

afterAll(async () => {
  files.closeAllConnections();
  await new Promise<void>((r) => files.close(() => r()));
});

describe("media fetcher", () => {
  it("fetches from an allowed host, following a redirect on the same origin", async () => {
    const got = await fetcher().fetch({ url: url("/to-ok"), maxBytes: 100 });
    expect(got.contentType).toBe("image/png");
    expect((await drain(got.body)).toString()).toBe("hello");
  });

  it("refuses loopback", async () => {
    expect(await refusal(fetcher().fetch({ url: `http://127.0.0.1:${canary.port}/`, maxBytes: 100 }))).toEqual({ code: "PARLEY_REFUSED", reason: "address" });
  });

  it.each(["http://10.0.0.1/a", "http://172.16.5.4/a", "http://192.168.1.1/a"])("refuses RFC 1918 %s", async (u) => {
    expect((await refusal(fetcher().fetch({ url: u, maxBytes: 100 }))).reason).toBe("address");
  });

  it("refuses link-local 169.254.169.254 (cloud metadata)", async () => {
    expect((await refusal(fetcher().fetch({ url: "http://169.254.169.254/latest/meta-data/", maxBytes: 100 }))).reason).toBe("address");
  });

  it.each(["[::1]", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "[64:ff9b::7f00:1]", "[fd00::1]", "[fe80::1]", "2130706433", "0x7f.1", "0.0.0.0"])("refuses IPv6 loopback, mapped and other encoded forms: %s", async (host) => {
    expect((await refusal(fetcher().fetch({ url: `http://${host}:${canary.port}/`, maxBytes: 100 }))).reason).toBe("address");
  });

  it("refuses a DNS name that resolves to a private address", async () => {
    expect((await refusal(fetcher().fetch({ url: "http://evil.test/a", maxBytes: 100 }))).reason).toBe("address");
    expect((await refusal(fetcher().fetch({ url: `http://sneaky.test:${canary.port}/a`, maxBytes: 100 }))).reason).toBe("address");
    expect((await refusal(fetcher({ resolve: undefined }).fetch({ url: `http://localhost:${canary.port}/a`, maxBytes: 100 }))).reason).toBe("address");
  });

  it("refuses a redirect to a private address, by literal or by name", async () => {
    expect((await refusal(fetcher().fetch({ url: url("/to-canary"), maxBytes: 100 }))).reason).toBe("address");
    expect((await refusal(fetcher().fetch({ url: url("/to-localhost"), maxBytes: 100 }))).reason).toBe("address");
  });

  it("refuses endless redirects", async () => {
    expect((await refusal(fetcher().fetch({ url: url("/loop"), maxBytes: 100 }))).reason).toBe("redirects");
  });

  it("refuses a Content-Length over the cap before reading the body", async () => {
    expect(await refusal(fetcher().fetch({ url: url("/huge-declared"), maxBytes: 1024 * 1024 }))).toEqual({ code: "PARLEY_TOO_LARGE", reason: "too-large" });
  });

  it("cuts a body that streams past the cap without declaring its length", async () => {
    const got = await fetcher().fetch({ url: url("/huge-streamed"), maxBytes: 1024 * 1024 });
    expect(await refusal(drain(got.body))).toEqual({ code: "PARLEY_TOO_LARGE", reason: "too-large" });
  });

  it("cuts a body that trickles past the total timeout", async () => {
    const got = await fetcher({ totalTimeoutMs: 400 }).fetch({ url: url("/trickle"), maxBytes: 1024 * 1024 });
    expect((await refusal(drain(got.body))).reason).toBe("timeout");
  });

  it("gives up on a server that never answers", async () => {
    expect((await refusal(fetcher({ totalTimeoutMs: 300 }).fetch({ url: url("/silent"), maxBytes: 100 }))).reason).toBe("timeout");
  });

  it.each(["file:///etc/passwd", "ftp://files.test/a", "gopher://files.test/a", "data:text/plain,hi", "javascript:alert(1)", `http://user:pw@files.test:1/a`, "not a url"])("refuses a non-http scheme or credentials: %s", async (u) => {
    expect((await refusal(fetcher().fetch({ url: u, maxBytes: 100 }))).reason).toBe("scheme");
  });

  it("the canary on loopback was never reached", async () => {
    expect(await canary.connections()).toBe(0);
  });
});
