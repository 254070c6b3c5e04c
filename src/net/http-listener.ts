/**
 * Starting and stopping an HTTP listener the same way wherever Parley serves one (the admin
 * endpoints, media, the Matrix application service, email's one-click unsubscribe): a port that
 * cannot be bound fails the start, and a stop also closes idle keep-alive connections, so it never
 * waits on a client that holds one open.
 */
import type { IncomingMessage, Server } from "node:http";
import type { AddressInfo } from "node:net";

/** Listen on `host:port` (port 0: any free one); rejects with the bind error (e.g. EADDRINUSE). */
export function listenOn(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

/** Stop accepting, close every connection (idle keep-alive ones too) and resolve once closed. */
export function closeListener(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/**
 * The request's target as a URL, or undefined when it is none: Node's parser passes targets such as
 * `http://[` (absolute form with a bad host) that `new URL` refuses with a throw. Every listener
 * answers those 400; thrown in a request handler, they ended the process.
 */
export function requestUrl(req: IncomingMessage): URL | undefined {
  try {
    return new URL(req.url ?? "/", "http://localhost");
  } catch {
    return undefined;
  }
}
