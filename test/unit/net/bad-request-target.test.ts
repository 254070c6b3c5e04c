/**
 * Hostile input on every HTTP listener Parley opens: a request target `new URL` refuses
 * (`GET http://[ HTTP/1.1`, which Node's parser passes) or a path with a malformed percent escape.
 * Each is the client's error: answered 400 in the listener's own form, and the listener goes on
 * serving. Before, the media listener and the Matrix application-service listener threw in their
 * request handlers — an unhandled rejection or an uncaught exception, either of which ends the
 * process — and the admin API answered 500.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Server } from "node:http";
import { Registry } from "prom-client";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { MediaService } from "../../../src/media/service.js";
import { MediaSchema } from "../../../src/media/config.js";
import { AdminServer } from "../../../src/admin/server.js";
import { createAppserviceServer } from "../../../adapters/matrix/appservice-http.js";
import { OneClickListener } from "../../../adapters/email/list/one-click.js";
import { ListMembers } from "../../../adapters/email/list/members.js";
import { EmailConfigSchema } from "../../../adapters/email/config.js";
import { listenOn, closeListener } from "../../../src/net/http-listener.js";
import { silentLogger } from "../../../src/log/logger.js";
import { MemoryStateStore } from "../../support/fake-context.js";

const failures: unknown[] = [];
const record = (reason: unknown): void => { failures.push(reason); };
beforeEach(() => {
  failures.length = 0;
  process.on("unhandledRejection", record);
  process.on("uncaughtException", record);
});
afterEach(() => {
  process.off("unhandledRejection", record);
  process.off("uncaughtException", record);
});

/** One raw HTTP/1.1 request; the status line of the answer ("" when the connection just closed). */
function statusLine(port: number, method: string, target: string, headers = ""): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, "127.0.0.1", () => s.write(`${method} ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${headers}\r\n`));
    let out = "";
    s.on("data", (d: Buffer) => { out += d.toString("latin1"); });
    s.on("error", () => undefined);
    s.on("close", () => resolve(out.split("\r\n")[0] ?? ""));
    s.setTimeout(5_000, () => s.destroy());
  });
}

const BAD_TARGETS = ["http://[", "http://a:99999/", "//[::1"];
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => { for (const c of cleanups.splice(0).reverse()) await c(); });

describe("a request target that is not a URL, or a malformed percent escape", () => {
  it("the media listener answers 400 and keeps serving signed files", async () => {
    const dir = await mkdtemp(join(tmpdir(), "parley-bad-target-"));
    const media = new MediaService({ config: MediaSchema.parse({ dir, listener: { enabled: true, port: 0, secret: "0123456789abcdef0123456789" } }), log: silentLogger() });
    await media.start();
    cleanups.push(async () => { await media.stop(); await rm(dir, { recursive: true, force: true }); });
    const part = await media.store(Buffer.from("hello"), { filename: "a.txt", contentType: "text/plain" }, { network: "xmpp", domain: "chat.example.org" });
    const url = new URL(media.publicUrl(part)!);
    for (const t of BAD_TARGETS) expect(await statusLine(Number(url.port), "GET", t)).toBe("HTTP/1.1 400 Bad Request");
    expect(await statusLine(Number(url.port), "GET", url.pathname)).toBe("HTTP/1.1 200 OK");
    await nextTurn();
    expect(failures.map(String)).toEqual([]);
  });

  it("the admin API answers 400 with its JSON error, for a bad target and a bad escape in a route parameter", async () => {
    const admin = new AdminServer({
      host: "127.0.0.1", port: 0, token: "admin-token-0123456789", registry: new Registry(), readiness: [], log: silentLogger(),
      routes: [{ method: "GET", path: "/trace/:query", handle: async (p) => ({ status: 200, body: p }) }],
    });
    const { port } = await admin.start();
    cleanups.push(() => admin.stop());
    const auth = "Authorization: Bearer admin-token-0123456789\r\n";
    for (const t of BAD_TARGETS) expect(await statusLine(port, "GET", t, auth)).toBe("HTTP/1.1 400 Bad Request");
    expect(await statusLine(port, "GET", "/trace/%E0%A4%A", auth)).toBe("HTTP/1.1 400 Bad Request");
    expect(await statusLine(port, "GET", "/trace/%E0%A4%A4", auth)).toBe("HTTP/1.1 200 OK");
    await nextTurn();
    expect(failures.map(String)).toEqual([]);
  });

  it("the Matrix application-service listener answers 400 M_UNRECOGNIZED and keeps answering the homeserver", async () => {
    const hsToken = "hs-token-0123456789abcdef";
    const server: Server = createAppserviceServer({
      hsToken, log: silentLogger(),
      handlers: { transaction: async () => ({ status: 200, body: {} }), userQuery: async () => ({ status: 404, body: { errcode: "M_NOT_FOUND" } }) },
    });
    const { port } = await listenOn(server, 0, "127.0.0.1");
    cleanups.push(() => closeListener(server));
    const auth = `Authorization: Bearer ${hsToken}\r\n`;
    for (const t of BAD_TARGETS) expect(await statusLine(port, "GET", t, auth)).toBe("HTTP/1.1 400 Bad Request");
    expect(await statusLine(port, "GET", "/_matrix/app/v1/users/%E0%A4%A", auth)).toBe("HTTP/1.1 400 Bad Request");
    expect(await statusLine(port, "POST", "/_matrix/app/v1/ping", `${auth}Content-Length: 2\r\n`)).toBe("HTTP/1.1 200 OK");
    await nextTurn();
    expect(failures.map(String)).toEqual([]);
  });

  it("the one-click unsubscribe listener answers 400", async () => {
    const config = EmailConfigSchema.parse({ oneClick: { publicUrl: "http://127.0.0.1/", listen: { port: 0 }, secret: "one-click-secret-0123456789" } }).oneClick!;
    const listener = new OneClickListener({ config, oneClick: { base: "http://127.0.0.1", key: Buffer.from("one-click-secret-0123456789") }, members: new ListMembers(new MemoryStateStore()), log: silentLogger() });
    const port = await listener.start();
    cleanups.push(() => listener.stop());
    for (const t of BAD_TARGETS) expect(await statusLine(port, "GET", t)).toBe("HTTP/1.1 400 Bad Request");
    expect(await statusLine(port, "GET", "/elsewhere")).toBe("HTTP/1.1 404 Not Found");
    await nextTurn();
    expect(failures.map(String)).toEqual([]);
  });
});
