import { createServer, request } from "node:http";
import { describe, expect, it } from "vitest";
import { closeListener, listenOn } from "../../../src/net/http-listener.js";

describe("HTTP listeners (src/net/http-listener.ts)", () => {
  it("a port that is taken fails the start with the bind error", async () => {
    const first = createServer((_req, res) => res.end("ok"));
    const { port } = await listenOn(first, 0, "127.0.0.1");
    const second = createServer();
    await expect(listenOn(second, port, "127.0.0.1")).rejects.toMatchObject({ code: "EADDRINUSE" });
    await closeListener(first);
  });

  it("a stop does not wait for a client in the middle of a request", async () => {
    let arrived!: () => void;
    const requestArrived = new Promise<void>((r) => (arrived = r));
    const server = createServer((req) => { arrived(); req.resume(); }); // never answers: the body never ends
    const { port } = await listenOn(server, 0, "127.0.0.1");
    const client = request({ host: "127.0.0.1", port, method: "POST", headers: { "content-length": "1000" } });
    client.on("error", () => undefined); // the stop cuts it
    client.write("partial");
    await requestArrived;
    await closeListener(server); // without closing busy connections this waits for the client: the test's timeout fails it
    expect(server.listening).toBe(false);
  });
});
