/**
 * A TCP proxy in front of a real peer: it forwards connections until `cut`, which drops every
 * open connection and refuses new ones (a network partition, a peer unreachable), and forwards
 * again after `restore`. For a link the test cannot break on the peer itself without breaking
 * the peer's other clients (e.g. an XMPP component link, while a test user stays connected).
 */
import { connect, createServer, type AddressInfo, type Server, type Socket } from "node:net";

export class TcpProxy {
  private readonly open = new Set<Socket>();
  private refusing = false;

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
  cut(): { restore(): Promise<void> } {
    this.refusing = true;
    for (const s of this.open) s.destroy();
    return { restore: async () => { this.refusing = false; } };
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
    for (const [a, b] of [[client, upstream], [upstream, client]] as const) {
      this.open.add(a);
      a.pipe(b);
      a.on("error", () => b.destroy());
      a.on("close", () => { this.open.delete(a); b.destroy(); });
    }
  }
}
