/**
 * A TCP proxy in front of a real peer: it forwards connections until `cut`, which drops every
 * open connection and refuses new ones (a network partition, a peer unreachable), and forwards
 * again after `restore`. For a link the test cannot break on the peer itself without breaking
 * the peer's other clients (e.g. an XMPP component link, while a test user stays connected).
 */
import { connect, createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { Transform } from "node:stream";

export interface Cut { restore(): Promise<void> }

export class TcpProxy {
  private readonly open = new Set<Socket>();
  private refusing = false;
  private trap: { marker: Buffer; spring(): void } | undefined;

  private constructor(private readonly server: Server) {}

  static async start(targetHost: string, targetPort: number): Promise<TcpProxy> {
    const server = createServer();
    const proxy = new TcpProxy(server);
    server.on("connection", (client) => proxy.accept(client, targetHost, targetPort));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    return proxy;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Drop every connection and refuse new ones, until `restore`. */
  cut(): Cut {
    this.refusing = true;
    for (const s of this.open) s.destroy();
    return { restore: async () => { this.refusing = false; } };
  }

  /**
   * Cut (as `cut`) the moment the client writes bytes holding `marker`, which are never forwarded:
   * the link dies with that stanza in flight, unread by the peer. Resolves once it has cut.
   * (A marker split across two TCP reads is not seen: keep it short, in a small stanza.)
   */
  cutOn(marker: string): Promise<Cut> {
    return new Promise((resolve) => {
      this.trap = { marker: Buffer.from(marker), spring: () => { this.trap = undefined; resolve(this.cut()); } };
    });
  }

  /** Whether `chunk` springs the trap; it then must not be forwarded. */
  private caught(chunk: Buffer): boolean {
    const trap = this.trap;
    if (!trap || !chunk.includes(trap.marker)) return false;
    trap.spring(); // at once: nothing written after it (a ping the peer would answer) may pass
    return true;
  }

  async close(): Promise<void> {
    for (const s of this.open) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket, host: string, port: number): void {
    if (this.refusing) {
      client.destroy();
      return;
    }
    const upstream = connect(port, host);
    const outward = new Transform({ transform: (chunk: Buffer, _enc, done) => (this.caught(chunk) ? done() : done(null, chunk)) });
    client.pipe(outward).pipe(upstream);
    upstream.pipe(client);
    client.on("close", () => outward.destroy());
    for (const [a, b] of [[client, upstream], [upstream, client]] as const) {
      this.open.add(a);
      a.on("error", () => b.destroy());
      a.on("close", () => { this.open.delete(a); b.destroy(); });
    }
  }
}
