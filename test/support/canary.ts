/**
 * A loopback listener that must never be reached: hostile URLs in media tests point at it (directly,
 * by a name resolving to loopback, by a redirect), and the suite checks it counted no connection.
 */
import { createServer, type Server } from "node:net";

export interface Canary {
  readonly port: number;
  /** Connections accepted so far (should stay 0). */
  connections(): number;
  close(): Promise<void>;
}

export async function startCanary(host = "127.0.0.1"): Promise<Canary> {
  let count = 0;
  const server: Server = createServer((socket) => { count++; socket.destroy(); });
  await new Promise<void>((r) => server.listen(0, host, r));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("canary has no port");
  return {
    port: address.port,
    connections: () => count,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** The project-wide canary started by test/support/canary-global.ts; pass it vitest's `inject("canary")`. */
export interface ProjectCanary {
  readonly port: number;
  /** Connections the canary accepted since the project started (should stay 0). */
  connections(): Promise<number>;
}

export function projectCanary(coords: { port: number; countPort: number }): ProjectCanary {
  return {
    port: coords.port,
    connections: async () => Number(await (await fetch(`http://127.0.0.1:${coords.countPort}/`)).text()),
  };
}
