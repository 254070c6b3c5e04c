/**
 * An HTTP proxy in front of a real peer, as a reverse proxy stands in front of a homeserver in
 * production: it forwards every request, records each request's body and the peer's status, and,
 * while a fault is armed, answers matching requests itself (a 502 when the peer is down, the
 * peer's own error body when it refuses or asks to slow down). The contract suite's
 * `provokeFailure` and `sendAndObserve` hooks use it to drive and observe a peer they cannot
 * otherwise make fail on demand.
 */
import { createServer, request, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface Exchange {
  readonly method: string;
  readonly path: string;
  readonly body: string;
  readonly status: number;
}

export interface FaultAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

type Fault = { readonly match: (method: string, path: string) => boolean; readonly answer: FaultAnswer };

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

export class HttpProxy {
  /** Every exchange so far, in order of the answers. */
  readonly exchanges: Exchange[] = [];
  private faults: Fault[] = [];
  private readonly listeners = new Set<() => void>();

  private constructor(private readonly server: Server, private readonly target: URL) {}

  /** Listen on `port` (0: any free one) and forward to `target` (an `http://host:port` base). */
  static async start(target: string, port = 0): Promise<HttpProxy> {
    const server = createServer();
    const proxy = new HttpProxy(server, new URL(target));
    server.on("request", (req, res) => {
      void proxy.handle(req).then(({ status, headers, body }) => {
        res.writeHead(status, headers);
        res.end(body);
      }, () => res.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => resolve());
    });
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Answer matching requests with `answer` instead of the peer's, until `restore`. */
  fail(match: Fault["match"], answer: FaultAnswer): { restore(): Promise<void> } {
    const fault: Fault = { match, answer };
    this.faults.push(fault);
    return { restore: async () => { this.faults = this.faults.filter((f) => f !== fault); } };
  }

  /** Resolve with the first exchange (past or future) that `match` accepts. */
  waitFor(match: (x: Exchange) => boolean, timeoutMs = 20_000): Promise<Exchange> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const hit = this.exchanges.find(match);
        if (!hit) return false;
        clearTimeout(timer);
        this.listeners.delete(listener);
        resolve(hit);
        return true;
      };
      const listener = () => { check(); };
      const timer = setTimeout(() => { this.listeners.delete(listener); reject(new Error("timed out waiting for a matching exchange")); }, timeoutMs);
      if (!check()) this.listeners.add(listener);
    });
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => { this.server.close(() => resolve()); this.server.closeAllConnections(); });
  }

  private async handle(req: IncomingMessage): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
    const body = await readBody(req);
    const method = req.method ?? "GET";
    const path = req.url ?? "/";
    const fault = this.faults.find((f) => f.match(method, path));
    const answer = fault
      ? { status: fault.answer.status, headers: { "content-type": "application/json" }, body: Buffer.from(JSON.stringify(fault.answer.body)) }
      : await this.forward(req, body);
    this.exchanges.push({ method, path, body: body.toString("utf8"), status: answer.status });
    for (const l of this.listeners) l();
    return answer;
  }

  private forward(req: IncomingMessage, body: Buffer): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const up = request({ host: this.target.hostname, port: this.target.port, method: req.method, path: req.url, headers: { ...req.headers, host: this.target.host } }, (r) => {
        void readBody(r).then((b) => {
          const headers = { ...r.headers };
          delete headers["transfer-encoding"];
          delete headers["content-length"];
          resolve({ status: r.statusCode ?? 502, headers, body: b });
        }, reject);
      });
      up.on("error", reject);
      up.end(body);
    });
  }
}
